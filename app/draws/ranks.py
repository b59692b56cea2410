"""Rank expressions such as `1-3,6,66+100n<=666` or `2,3,23,123+100n`.

Grammar (whitespace is allowed between tokens; `，` may replace `,` and `≤` may replace `<=`)::

    expression  := term ("," term)*
    term        := NUMBER                          a single rank: 6
                 | NUMBER "-" NUMBER               an inclusive range: 1-3
                 | NUMBER "+" NUMBER "n"           start + step·n for n = 0, 1, 2, ...: 123+100n
                 | NUMBER "+" NUMBER "n" "<=" NUMBER   the same, up to a bound: 66+100n<=666
    NUMBER      := [0-9]+                          at most 1,000,000,000

Ranks are 1-based positions in the frozen entry list. Ranks beyond the number of entries are
void; an open-ended progression runs up to the number of entries. The selected ranks are the
union of all terms, in ascending order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.draws.errors import DrawError

MAX_NUMBER = 1_000_000_000
MAX_LENGTH = 500
SEPARATORS = frozenset(",，")
TermForm = Literal["single", "range", "step"]


class RankExprError(DrawError):
    """A rank expression that does not parse; `params["column"]` is 1-based where present."""


@dataclass(frozen=True)
class RankTerm:
    """One term: ranks start, start+step, ... up to `end` (inclusive; None = no bound)."""

    form: TermForm
    start: int
    step: int = 1
    end: int | None = None

    @property
    def text(self) -> str:
        if self.form == "single":
            return str(self.start)
        if self.form == "range":
            return f"{self.start}-{self.end}"
        bound = "" if self.end is None else f"<={self.end}"
        return f"{self.start}+{self.step}n{bound}"

    def positions(self, count: int) -> range:
        """The ranks of this term that exist among `count` entries."""
        last = count if self.end is None else min(self.end, count)
        return range(self.start, last + 1, self.step)


@dataclass(frozen=True)
class RankSpec:
    """A parsed rank expression."""

    terms: tuple[RankTerm, ...]

    @property
    def canonical(self) -> str:
        """The expression without spaces and with ASCII separators, as stored in records."""
        return ",".join(term.text for term in self.terms)

    def positions(self, count: int) -> list[int]:
        """The selected 1-based ranks that exist among `count` entries, ascending."""
        selected: set[int] = set()
        for term in self.terms:
            selected.update(term.positions(count))
        return sorted(selected)


class _Scanner:
    """A cursor over the expression that skips whitespace between tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.last_column = 1

    @property
    def column(self) -> int:
        return self.i + 1

    def skip_space(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.i] if self.i < len(self.text) else ""

    def take(self, token: str) -> bool:
        if self.peek() and self.text.startswith(token, self.i):
            self.i += len(token)
            return True
        return False

    def number(self, what: Literal["rank", "step", "bound"] = "rank") -> int:
        self.skip_space()
        column = self.last_column = self.column
        begin = self.i
        while self.i < len(self.text) and "0" <= self.text[self.i] <= "9":
            self.i += 1
        digits = self.text[begin : self.i]
        if not digits:
            raise RankExprError("ranks.expected_number", column=column)
        value = int(digits)
        if value > MAX_NUMBER:
            raise RankExprError("ranks.too_large", column=column, limit=MAX_NUMBER)
        if value == 0:
            code = "ranks.zero_step" if what == "step" else "ranks.zero"
            raise RankExprError(code, column=column)
        return value


def _parse_term(scan: _Scanner) -> RankTerm:
    start = scan.number()
    column = scan.last_column
    if scan.take("-"):
        end = scan.number()
        if end < start:
            raise RankExprError("ranks.reversed_range", column=column, start=start, end=end)
        return RankTerm("range", start, 1, end)
    if not scan.take("+"):
        return RankTerm("single", start, 1, start)
    step = scan.number("step")
    if not scan.take("n"):
        raise RankExprError("ranks.expected_n", column=scan.column, start=start, step=step)
    if not (scan.take("<=") or scan.take("≤")):
        return RankTerm("step", start, step, None)
    bound = scan.number("bound")
    if bound < start:
        raise RankExprError(
            "ranks.bound_below_start", column=scan.last_column, bound=bound, start=start
        )
    return RankTerm("step", start, step, bound)


def parse_ranks(expression: str) -> RankSpec:
    """Parse a rank expression; raises `RankExprError` with a code, column and message."""
    if len(expression) > MAX_LENGTH:
        raise RankExprError("ranks.too_long", limit=MAX_LENGTH)
    scan = _Scanner(expression)
    if not scan.peek():
        raise RankExprError("ranks.empty")
    terms: list[RankTerm] = []
    while True:
        if scan.peek() in SEPARATORS or not scan.peek():
            raise RankExprError("ranks.empty_term", column=scan.column)
        terms.append(_parse_term(scan))
        char = scan.peek()
        if not char:
            return RankSpec(tuple(terms))
        if char not in SEPARATORS:
            raise RankExprError("ranks.unexpected", column=scan.column, char=char)
        scan.i += 1
