"""`reply_format`: does a reply follow its homework's format (`作业7-1:answer`)?

This is the check every homework in the seed course implies: the reply starts with the
homework prefix, with an ASCII or full-width colon, and carries a non-empty answer.
"""

from __future__ import annotations

from grader.catalog import example_prefix, prefix_pattern
from grader.registry import Job, ReferenceTask, register
from grader.report import ACCEPTED, FORMAT_ERROR, Report, say


def split_answer(code: str, text: str) -> str | None:
    """The answer after the homework prefix, or None when the prefix is missing."""
    match = prefix_pattern(code).match(text)
    if match is None:
        return None
    return text[match.end() :].strip()


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
