"""Entries and the canonical frozen list.

The frozen list is UTF-8 text with one line per entry, in entry order. Every line, the last
one included, ends with a single LF (`\\n`); no entries is the empty text. Fields are
separated by one TAB:

    entry_id TAB floor TAB name                 for fixed_ranks and lottery
    entry_id TAB floor TAB name TAB score       for top_score
    entry_id TAB floor TAB name TAB likes       for top_likes

`entry_id`, `floor` and `likes` are decimal integers without sign or leading zeros (`0` is
`0`); entry ids are below 2**63 and unique. `score` is a decimal number written
`-?(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?` (no exponent, no trailing zeros, never `-0`). In names a
backslash is written `\\\\`, a TAB `\\t`, a LF `\\n` and a CR `\\r`; every other character is
itself. The list hash is the lowercase hex SHA-256 of the UTF-8 bytes of this text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from app.draws.errors import DrawError
from app.draws.rules import Rule

MAX_ID = 2**63 - 1
MAX_SCORE_LENGTH = 64
_SCORE_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
_ESCAPE_RE = re.compile(r"\\(.?)", re.DOTALL)
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


class Entry(NamedTuple):
    """One entry as a rule counts it; `score`/`likes` only where the rule needs them."""

    entry_id: int
    floor: int
    name: str
    score: Decimal | None = None
    likes: int | None = None


@dataclass(frozen=True)
class FrozenList:
    """The canonical list text, its hash and its number of entries."""

    text: str
    list_hash: str
    count: int


def canonical_score(value: Decimal | int | float | str) -> str:
    """The one text form of a score; floats go through their shortest repr (0.1 -> "0.1")."""
    if isinstance(value, bool):
        raise ValueError("a score is a number, not a boolean")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not a decimal number: {value!r}") from exc
    if not number.is_finite():
        raise ValueError(f"a score must be finite, not {value!r}")
    if number == 0:
        return "0"
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if len(text) > MAX_SCORE_LENGTH:
        raise ValueError(f"a score has at most {MAX_SCORE_LENGTH} characters")
    return text


def escape_name(name: str) -> str:
    return name.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def unescape_name(field: str) -> str:
    """Inverse of `escape_name`; raises ValueError on a raw CR or an unknown escape."""
    if "\r" in field:
        raise ValueError("raw CR in a name (write \\r)")

    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        if char not in _UNESCAPES:
            raise ValueError(f"unknown escape \\{char} in a name")
        return _UNESCAPES[char]

    return _ESCAPE_RE.sub(replace, field)


def utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text is not valid Unicode (lone surrogate)") from exc


def list_hash(text: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 bytes of a frozen list."""
    return hashlib.sha256(utf8(text)).hexdigest()


def _check_int(value: object, what: str, index: int, limit: int = MAX_ID) -> int:
    if type(value) is not int or not 0 <= value <= limit:
        raise DrawError("entries.invalid", index=index, detail=f"{what} must be 0..{limit}")
    return value


def _value_text(entry: Entry, rule: Rule, index: int) -> str | None:
    field = rule.value_field
    if field is None:
        return None
    raw = entry.score if field == "score" else entry.likes
    if raw is None:
        raise DrawError("entries.missing_value", entry_id=entry.entry_id, field=field)
    if field == "likes":
        return str(_check_int(raw, "likes", index))
    try:
        return canonical_score(raw)
    except ValueError as exc:
        raise DrawError("entries.invalid", index=index, detail=str(exc)) from exc


def _line(entry: Entry, rule: Rule, index: int) -> str:
    _check_int(entry.entry_id, "entry_id", index)
    _check_int(entry.floor, "floor", index)
    if not isinstance(entry.name, str):
        raise DrawError("entries.invalid", index=index, detail="name must be a string")
    fields = [str(entry.entry_id), str(entry.floor), escape_name(entry.name)]
    value = _value_text(entry, rule, index)
    if value is not None:
        fields.append(value)
    return "\t".join(fields) + "\n"


def encode_entries(entries: Iterable[Entry], rule: Rule) -> str:
    """The canonical list text for `entries` in their given order. Raises `DrawError`."""
    seen: set[int] = set()
    lines: list[str] = []
    for index, entry in enumerate(entries, 1):
        lines.append(_line(entry, rule, index))
        if entry.entry_id in seen:
            raise DrawError("entries.duplicate_id", entry_id=entry.entry_id)
        seen.add(entry.entry_id)
    text = "".join(lines)
    try:
        utf8(text)
    except ValueError as exc:
        raise DrawError("entries.invalid", index=0, detail=str(exc)) from exc
    return text


def freeze_entries(entries: Iterable[Entry], rule: Rule) -> FrozenList:
    """Encode and hash `entries`: what a freeze publishes."""
    text = encode_entries(entries, rule)
    return FrozenList(text, list_hash(text), text.count("\n"))


_UINT = r"(?:0|[1-9][0-9]{0,18})"
_SCORE = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?"
_NAME = r"[^\t\n\r]*"
_LIST_RE = {
    None: re.compile(rf"(?:{_UINT}\t{_UINT}\t{_NAME}\n)*"),
    "score": re.compile(rf"(?:{_UINT}\t{_UINT}\t{_NAME}\t{_SCORE}\n)*"),
    "likes": re.compile(rf"(?:{_UINT}\t{_UINT}\t{_NAME}\t{_UINT}\n)*"),
}


class EntryTable(Sequence[Entry]):
    """A decoded frozen list kept as columns (fast for a million entries); items are `Entry`."""

    def __init__(
        self,
        ids: list[int],
        floors: list[int],
        names: list[str],
        scores: list[Decimal] | None = None,
        likes: list[int] | None = None,
    ) -> None:
        self.ids, self.floors, self.names = ids, floors, names
        self.scores, self.likes = scores, likes

    def __len__(self) -> int:
        return len(self.ids)

    def _item(self, i: int) -> Entry:
        score = None if self.scores is None else self.scores[i]
        likes = None if self.likes is None else self.likes[i]
        return Entry(self.ids[i], self.floors[i], self.names[i], score, likes)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._item(i) for i in range(len(self))[index]]
        return self._item(range(len(self))[index])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


def _uint(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or text[:1] == "0" != text:
        raise ValueError(f"{text!r} is not a canonical unsigned integer")
    value = int(text)
    if value > MAX_ID:
        raise ValueError(f"{text} is above 2**63-1")
    return value


def _score(text: str) -> Decimal:
    if len(text) > MAX_SCORE_LENGTH or text == "-0" or not _SCORE_RE.fullmatch(text):
        raise ValueError(f"{text!r} is not a canonical score")
    return Decimal(text)


def _check_line(line: str, width: int, field: str | None) -> None:
    """Raise ValueError saying what is wrong with one line (the slow path, for messages)."""
    parts = line.split("\t")
    if len(parts) != width:
        raise ValueError(f"{len(parts)} fields, expected {width}")
    _uint(parts[0])
    _uint(parts[1])
    unescape_name(parts[2])
    if field == "score":
        _score(parts[3])
    elif field == "likes":
        _uint(parts[3])


def _first_bad_line(text: str, width: int, field: str | None) -> DrawError:
    if not text.endswith("\n"):
        return DrawError("list.malformed", line=text.count("\n") + 1, detail="no final newline")
    for number, line in enumerate(text[:-1].split("\n"), 1):
        try:
            _check_line(line, width, field)
        except ValueError as exc:
            return DrawError("list.malformed", line=number, detail=str(exc))
    return DrawError("list.malformed", line=0, detail="unknown")  # pragma: no cover


def _int_column(fields: list[str], what: str) -> list[int]:
    values = list(map(int, fields))
    if values and max(values) > MAX_ID:
        number = next(i for i, v in enumerate(values, 1) if v > MAX_ID)
        raise DrawError("list.malformed", line=number, detail=f"{what} is above 2**63-1")
    return values


def _score_column(fields: list[str]) -> list[Decimal]:
    for number, text in enumerate(fields, 1):
        if len(text) > MAX_SCORE_LENGTH or text == "-0":
            raise DrawError("list.malformed", line=number, detail=f"{text!r} is not canonical")
    return list(map(Decimal, fields))


def _name_column(fields: list[str]) -> list[str]:
    names: list[str] = []
    for number, name in enumerate(fields, 1):
        try:
            names.append(unescape_name(name) if "\\" in name else name)
        except ValueError as exc:
            raise DrawError("list.malformed", line=number, detail=str(exc)) from exc
    return names


def decode_entries(text: str, rule: Rule) -> EntryTable:
    """Parse a frozen list strictly: only the canonical text of some entries is accepted."""
    field = rule.value_field
    width = 3 if field is None else 4
    if not _LIST_RE[field].fullmatch(text):
        raise _first_bad_line(text, width, field)
    fields = text[:-1].replace("\n", "\t").split("\t") if text else []
    table = EntryTable(
        _int_column(fields[0::width], "entry id"),
        _int_column(fields[1::width], "floor"),
        _name_column(fields[2::width]) if "\\" in text else fields[2::width],
    )
    if field == "score":
        table.scores = _score_column(fields[3::width])
    elif field == "likes":
        table.likes = _int_column(fields[3::width], "likes")
    _check_unique(table.ids)
    return table


def _check_unique(ids: list[int]) -> None:
    if len(set(ids)) == len(ids):
        return
    seen: set[int] = set()
    for number, entry_id in enumerate(ids, 1):
        if entry_id in seen:
            raise DrawError("list.malformed", line=number, detail=f"entry id {entry_id} again")
        seen.add(entry_id)
