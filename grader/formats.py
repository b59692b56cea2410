"""What a reply and a homework's grading settings must look like, per task kind (standard library only).

The web app checks a course definition with this module before it saves one (an import-linter
contract allows it, next to `grader.catalog`): every setting of a grading kind is known and well
typed, and the reply format a homework states is one its grader accepts. The tasks read replies
with the same functions (`split_answer`, `reply_problem`), so the check and the grading cannot
drift apart: a reply written exactly as the homework says is never a `format_error`.

Messages are English msgids with `{name}` placeholders (`Problem.params`); the app translates.
Importing this module loads no grading code (no NumPy, no sandbox): a test checks it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.catalog import (
    FORMAT_ERROR,
    NOT_UNDERSTOOD,
    PREFIX_WORD,
    prefix_pattern,
    translatable,
)
from grader.opcount_parse import parse_opcounts


@dataclass(frozen=True)
class Problem:
    """One thing wrong: the setting's key (empty for the reply itself), a msgid and its params."""

    key: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    verdict: str = ""


def split_answer(code: str, text: str) -> str | None:
    """The answer after the homework prefix, or None when the prefix is missing."""
    match = prefix_pattern(code).match(text)
    if match is None:
        return None
    return text[match.end() :].strip()


def reply_problem(kind: str, code: str, text: str) -> Problem | None:
    """Why the grader of `kind` would not read `text` as an answer to homework `code`, or None.

    This is the format part of grading only (a right or wrong answer is not a format problem):
    `reply_format` needs the `作业X-Y：` prefix and something after it; `conv_opcount` needs a
    multiplication and an addition count it can tell apart; `mnist` grades the uploaded code,
    not the text.
    """
    if kind == "reply_format":
        answer = split_answer(code, text)
        if answer is None:
            return Problem(
                "",
                translatable(
                    "it does not start with “{prefix}” followed by a colon, a space or an opening bracket"
                ),
                {"prefix": f"{PREFIX_WORD}{code}"},
                FORMAT_ERROR,
            )
        if not answer:
            return Problem(
                "",
                translatable("nothing follows “{prefix}”"),
                {"prefix": f"{PREFIX_WORD}{code}"},
                FORMAT_ERROR,
            )
    elif kind == "conv_opcount":
        answer = split_answer(code, text)
        got = parse_opcounts(text if answer is None else answer)
        if got.mul is None or got.add is None:
            return Problem(
                "",
                translatable("the grader cannot read a multiplication count and an addition count from it"),
                {},
                NOT_UNDERSTOOD,
            )
    return None


# --- a stated format with placeholders, made into a reply ---------------------------------------

#: placeholders in a stated format: `XX`, `XXX`, `ＸＸ`, `…`, `...`, `<答案>`
_PLACEHOLDER = re.compile(r"(?<![A-Za-z])[XxＸｘ]{2,}(?![A-Za-z])|…+|\.{3,}|<[^<>\n]{1,20}>")


def fill_placeholders(kind: str, text: str) -> str:
    """A plausible reply from a stated format: each placeholder becomes an answer (a count for
    `conv_opcount`, a few words otherwise). `作业3-1(1)XX(2)XX` → `作业3-1(1)答案(2)答案`."""
    filler = "1000" if kind == "conv_opcount" else "答案"
    return _PLACEHOLDER.sub(filler, text)


#: words that introduce a reply example in a homework's text (`回帖形式：作业3-1(1)XX(2)XX`)
_CUE = re.compile(
    r"(?:回复|回帖|格式|形式|例如|比如|如|示例|样例|写成|reply|format|example|e\.g\.)\s*[:：]?\s*$",
    re.IGNORECASE,
)


def stated_examples(code: str, body: str) -> list[str]:
    """The replies a homework's text shows as examples of its own format.

    An occurrence of `作业<code>` counts when it follows a cue (`回帖形式：`, `例如`, `reply:` …)
    or a colon, sits in backticks or quotes, or starts a line and is followed by punctuation,
    a bracket or a space; it runs to the end of its line (a closing quote or backtick ends it
    earlier). Prose that merely names the homework (`作业3-1的要求是…`, `上次作业3-1里…`) is
    not an example.
    """
    found: list[str] = []
    mention = re.compile(rf"{PREFIX_WORD}\s*{re.escape(code)}(?![\d\-])")
    for line in body.splitlines():
        for match in mention.finditer(line):
            before = line[: match.start()]
            quoted = before.rstrip().endswith(("`", "“", "「", '"', "『"))
            cued = quoted or _CUE.search(before) or before.rstrip().endswith((":", "："))
            # at a line's start only when something other than a word follows (`作业3-1：…`,
            # `作业3-1(1)…`, `作业3-1，…`), so that `作业3-1的要求是…` stays prose
            heads_line = before.strip() == "" and not re.match(r"\w", line[match.end() :])
            if not (cued or heads_line):
                continue
            rest = line[match.start() :]
            if quoted:
                rest = re.split(r"[`”」\"』]", rest, maxsplit=1)[0]
            found.append(rest.strip().rstrip("。.；;"))
    return found


# --- grading settings, per kind ------------------------------------------------------------------

Check = tuple[str, Any]  # (type name, detail) checked by `_check_value`

#: settings each task reads from `grading:` (besides `kind`), with what each must be
SETTINGS: dict[str, dict[str, Check]] = {
    "reply_format": {},
    "conv_opcount": {
        "input": ("ints", 4),
        "input_shape": ("ints", 4),
        "out_channels": ("int", 1),
        "kernel": ("pair", 1),
        "stride": ("pair", 1),
        "padding": ("pair", 0),
        "dilation": ("pair", 1),
        "groups": ("int", 1),
        "bias": ("choice", ("count", "ignore", "either")),
        "per_student": ("bool", None),
    },
    "mnist": {
        "dataset": ("text", None),
        "public_fraction": ("fraction", None),
        "split_seed": ("text", None),
        "rank_on": ("choice", ("all", "public", "private")),
        "min_accuracy": ("unit", None),
        # read by the worker: false turns off the per-submission perturbation of the hidden set
        "perturb": ("bool", None),
    },
}


def _check_value(check: Check, value: Any) -> tuple[str, dict[str, Any]] | None:
    """None when `value` passes `check`, else a msgid and its params."""
    kind, detail = check
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind == "int" and not (is_int and value >= detail):
        return translatable("must be a whole number of at least {minimum}"), {"minimum": detail}
    if kind == "pair":
        items = value if isinstance(value, list) else [value]
        if len(items) not in (1, 2) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= detail for v in items
        ):
            return translatable("must be a whole number of at least {minimum}, or a pair [a, b] of them"), {
                "minimum": detail
            }
    if kind == "ints" and not (
        isinstance(value, list)
        and len(value) == detail
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        return translatable("must be a list of {n} whole numbers of at least 1"), {"n": detail}
    if kind == "bool" and not isinstance(value, bool):
        return translatable("must be true or false"), {}
    if kind == "choice" and value not in detail:
        return translatable("must be one of: {choices}"), {"choices": ", ".join(detail)}
    if kind == "text" and not (isinstance(value, str) and value.strip()):
        return translatable("must be a non-empty text"), {}
    if kind in ("fraction", "unit"):
        number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if kind == "fraction" and not (number and 0 < value < 1):
            return translatable("must be a number between 0 and 1 (exclusive)"), {}
        if kind == "unit" and not (number and 0 <= value <= 1):
            return translatable("must be a number from 0 to 1"), {}
    return None


def settings_problems(
    kind: str, settings: Mapping[str, Any], others: frozenset[str] = frozenset()
) -> list[Problem]:
    """What is wrong with a grading kind's settings (without `kind`). `others` are keys the
    caller reads itself (the app's per-homework settings); any other unknown key is refused,
    with the closest known key suggested by the caller."""
    known = SETTINGS.get(kind, {})
    problems: list[Problem] = []
    for key, value in settings.items():
        if key in others:
            continue
        if key not in known:
            problems.append(
                Problem(key, translatable("unknown setting for grading kind {kind}"), {"kind": kind})
            )
            continue
        bad = _check_value(known[key], value)
        if bad:
            problems.append(Problem(key, bad[0], bad[1]))
    if kind == "conv_opcount":
        problems += _conv_problems(settings)
    if kind == "mnist" and settings.get("rank_on", "all") != "all" and "public_fraction" not in settings:
        problems.append(
            Problem(
                "rank_on", translatable("ranking on the public or private part needs public_fraction"), {}
            )
        )
    return problems


def _conv_problems(settings: Mapping[str, Any]) -> list[Problem]:
    if settings.get("per_student") is True:
        return []
    problems = [
        Problem(key, translatable("is required for grading kind {kind}"), {"kind": "conv_opcount"})
        for key in ("out_channels", "kernel")
        if key not in settings
    ]
    if "input" not in settings and "input_shape" not in settings:
        problems.append(
            Problem(
                "input_shape", translatable("is required for grading kind {kind}"), {"kind": "conv_opcount"}
            )
        )
    shape = settings.get("input", settings.get("input_shape"))
    groups = settings.get("groups", 1)
    if isinstance(shape, list) and len(shape) == 4 and isinstance(groups, int) and groups >= 1:
        channels, out = shape[1], settings.get("out_channels")
        if (isinstance(channels, int) and channels % groups) or (isinstance(out, int) and out % groups):
            problems.append(Problem("groups", translatable("must divide the input and output channels"), {}))
    return problems
