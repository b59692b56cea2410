"""`reply_format`: does a reply follow its homework's format (`作业7-1:answer`)?

This is the check every homework in the seed course implies: the reply starts with the
homework prefix, with an ASCII or full-width colon (or a space, or the opening bracket of
numbered parts: `作业3-1(1)…`), and carries a non-empty answer. `split_answer` lives in
`grader/formats.py`, where the web app checks a homework's stated format with it.
"""

from __future__ import annotations

from grader.catalog import example_prefix
from grader.formats import split_answer
from grader.registry import Job, ReferenceTask, register
from grader.report import ACCEPTED, FORMAT_ERROR, Report, say


@register
class ReplyFormat(ReferenceTask):
    name = "reply_format"

    def grade(self, job: Job) -> Report:
        code = job.assignment
        example = f"{example_prefix(code)}…"
        answer = split_answer(code, job.text)
        if answer is None:
            return Report(
                FORMAT_ERROR,
                0.0,
                say(
                    f"回复格式不对：请以“{example_prefix(code)}”开头，例如 {example}",
                    f"Wrong reply format: start with “{example_prefix(code)}”, for example {example}",
                ),
            )
        if not answer:
            return Report(
                FORMAT_ERROR,
                0.0,
                say(
                    f"“{example_prefix(code)}”后面没有内容，请写上你的答案。",
                    f"Nothing follows “{example_prefix(code)}”; please write your answer.",
                ),
            )
        return Report(
            ACCEPTED,
            1.0,
            say("格式正确，已记录完成。", "Format correct; marked as done."),
            detail={"answer_chars": len(answer)},
        )
