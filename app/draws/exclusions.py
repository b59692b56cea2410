"""The excluded list of record version 3: every reply that is not an entry, and why, in public.

One line per excluded submission, ordered by floor, then submission id::

    submission_id TAB floor TAB reason_code LF

A reason code is data, not part of the format: `[a-z][a-z0-9_]*` parts joined by dots, at most
64 characters (`hidden`, `late`, `duplicate`, `withdrew`, `similarity.copied`, ...). New codes
need no change of the format or of a verifier; the pages translate the codes they know.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import NamedTuple

from app.draws.errors import DrawError

MAX_ID = 2**63 - 1
MAX_CODE = 64
CODE_RE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
_UINT = r"(?:0|[1-9][0-9]{0,18})"
_LINE_RE = re.compile(rf"({_UINT})\t({_UINT})\t([a-z][a-z0-9_.]*)")


class Excluded(NamedTuple):
    submission_id: int
    floor: int
    reason: str


def valid_code(code: object) -> bool:
    return isinstance(code, str) and len(code) <= MAX_CODE and CODE_RE.fullmatch(code) is not None


def encode_excluded(items: Iterable[Excluded]) -> str:
    """The canonical text (sorted by floor, then id); refuses bad codes and repeated ids."""
    rows = sorted(items, key=lambda item: (item.floor, item.submission_id))
    seen: set[int] = set()
    lines = []
    for item in rows:
        for value in (item.submission_id, item.floor):
            if type(value) is not int or not 0 <= value <= MAX_ID:
                raise DrawError("excluded.invalid", detail=f"{value!r} is not an id or floor")
        if not valid_code(item.reason):
            raise DrawError("excluded.invalid", detail=f"{item.reason!r} is not a reason code")
        if item.submission_id in seen:
            raise DrawError("excluded.invalid", detail=f"submission {item.submission_id} twice")
        seen.add(item.submission_id)
        lines.append(f"{item.submission_id}\t{item.floor}\t{item.reason}\n")
    return "".join(lines)


def decode_excluded(text: str) -> list[Excluded]:
    """Parse the canonical text strictly; raises DrawError(list.malformed) naming the line."""
    if text and not text.endswith("\n"):
        raise DrawError("excluded.malformed", line=text.count("\n") + 1, detail="no final newline")
    rows: list[Excluded] = []
    seen: set[int] = set()
    for number, line in enumerate(text.split("\n")[:-1], 1):
        match = _LINE_RE.fullmatch(line)
        if match is None or not valid_code(match.group(3)):
            raise DrawError("excluded.malformed", line=number, detail="not id TAB floor TAB code")
        row = Excluded(int(match.group(1)), int(match.group(2)), match.group(3))
        if max(row.submission_id, row.floor) > MAX_ID:
            raise DrawError("excluded.malformed", line=number, detail="above 2**63-1")
        if row.submission_id in seen:
            raise DrawError("excluded.malformed", line=number, detail="submission id again")
        if rows and (row.floor, row.submission_id) <= (rows[-1].floor, rows[-1].submission_id):
            raise DrawError("excluded.malformed", line=number, detail="not ordered by floor, id")
        seen.add(row.submission_id)
        rows.append(row)
    return rows


def excluded_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
