"""Read "how many multiplications and additions" out of a free-text reply.

Replies in the seed look like `乘法867041280,加法867041280` or, with the working shown,
`乘法:((224+2-3)/1+1)*10*3*64*9=867041280次`. Parsing is deliberately small and predictable:

1. NFKC-normalise (full-width `：，；＝８` become ASCII), drop homework references (`作业7-1`).
2. Find labels: 乘法/乘/multiplications/mul…, 加法/加/additions/add…. Short labels (乘, 加, mul,
   add) count only when a number follows, so `乘以` inside working is not a label.
3. Label first (`乘法: X`): a label's segment runs to the next label; its value is the number
   after the last `=` in it, or its only number. Number first (`X次乘法`, `X multiplications`) is
   tried too, and whichever reading assigns more quantities wins (label-first on a tie).
4. No label at all: exactly two numbers are read as (multiplications, additions), the order the
   homework asks in.

Numbers may use thousands separators (`867,041,280`, `867 041 280`), decimals and 万/亿; values
are exact `Fraction`s, so `8.67亿` is simply a wrong (non-matching) count, never rounded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

_HOMEWORK_REF = re.compile(r"(?:作业|homework|hw)\s*\d+(?:\s*-\s*\d+)*", re.IGNORECASE)
_NUMBER = re.compile(
    r"(?<![\d.])(\d{1,3}(?:[,_' ]\d{3})+(?![\d])|\d+)(?:\.(\d+))?(?!\d)\s*(万|亿)?"
)
_SCALE = {"万": 10**4, "亿": 10**8, None: 1}
_FOLLOWED_BY_NUMBER = r"(?=\s*[:=]?\s*\d)"


def _label(long_words: str, short_words: str, short_zh: str) -> str:
    """Long labels always count; short ones (乘, mul) only when a number follows."""
    word = r"(?<![a-z])(?:{})(?![a-z])"
    short = f"(?:{word.format(short_words)}|{short_zh}){_FOLLOWED_BY_NUMBER}"
    return f"{word.format(long_words)}|{short}"


_LABELS = {
    "mul": "乘法|" + _label("multiplications?", "mults?|muls?", "乘"),
    "add": "加法|" + _label("additions?", "adds?|sums?", "加"),
}
_LABEL = re.compile("|".join(f"(?P<{k}>{v})" for k, v in _LABELS.items()), re.IGNORECASE)
# number, an optional 次/个/的, then the label: `867041280次乘法`, `867,041,280 additions`
_VALUE_FIRST = re.compile(
    rf"{_NUMBER.pattern}\s*(?:次|个|的|\s)*\s*(?:(?P<mul>乘法|multiplications?)|(?P<add>加法|additions?))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class OpCounts:
    """What was read: each count as an exact number (None when unreadable) and how many numbers
    the reply held at all (0 means the reply contains no number)."""

    mul: Fraction | None
    add: Fraction | None
    numbers: int


#: int() refuses more than 4,300 digits (a ValueError that crashed the grading); no operation
#: count is anywhere near this long, so a longer number is read as this one: simply wrong
MAX_DIGITS = 4000


def _value(match: re.Match[str]) -> Fraction:
    whole, fraction, scale = match.group(1), match.group(2), match.group(3)
    digits = re.sub(r"\D", "", whole)
    if len(digits) + len(fraction or "") > MAX_DIGITS:
        return Fraction(10) ** MAX_DIGITS
    value = Fraction(int(digits + (fraction or "")), 10 ** len(fraction or ""))
    return value * _SCALE[scale]


def numbers_in(text: str) -> list[Fraction]:
    return [_value(m) for m in _NUMBER.finditer(text)]


def segment_value(segment: str) -> Fraction | None:
    """The number after the last `=` (the result of shown working), else the only number."""
    if "=" in segment:
        after = numbers_in(segment.rsplit("=", 1)[1])
        return after[0] if after else None
    found = numbers_in(segment)
    return found[0] if len(found) == 1 else None


def _label_first(text: str) -> dict[str, Fraction]:
    labels = list(_LABEL.finditer(text))
    found: dict[str, Fraction] = {}
    ends = [m.start() for m in labels[1:]] + [len(text)]
    for here, end in zip(labels, ends, strict=False):  # no labels: nothing to read
        value = segment_value(text[here.end() : end])
        if value is not None and here.lastgroup and here.lastgroup not in found:
            found[here.lastgroup] = value
    return found


def _value_first(text: str) -> dict[str, Fraction]:
    found: dict[str, Fraction] = {}
    for match in _VALUE_FIRST.finditer(text):
        key = "mul" if match.group("mul") else "add"
        found.setdefault(key, _value(match))
    return found


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("≈", "=").replace("×", "*")
    return _HOMEWORK_REF.sub(" ", text)


def parse_opcounts(text: str) -> OpCounts:
    """Parse a reply (with or without its `作业7-1：` prefix) into multiplication/addition counts."""
    text = normalise(text)
    count = len(numbers_in(text))
    readings = [_label_first(text), _value_first(text)]
    best = max(readings, key=len)  # max keeps the first (label-first) on a tie
    if not _LABEL.search(text):
        unlabelled = numbers_in(text)
        if len(unlabelled) == 2:
            best = {"mul": unlabelled[0], "add": unlabelled[1]}
    return OpCounts(best.get("mul"), best.get("add"), count)
