"""Splitting a reply at its `作业X-Y` prefixes, the way the seed thread's students wrote them.

Pure functions: no database, no web. A *prefix* is `作业` + a homework code, written

* at the start of a line (after spaces or Markdown marks like `#`, `**`, `>`, `-`), followed by
  a colon (ASCII or full-width), other punctuation, an opening bracket (`作业3-1(1)…`), white
  space or the end of the text: `作业8：…`, `作业 8：`, `作业8\n…`, `**作业7-1**:`;
* or inside a line, after white space or punctuation, followed by a colon:
  `作业5-1:adam 作业5-2: vgg …` (but not `上次作业3:…`, nor `作业9-1奖励:`).

Codes are read leniently (full-width digits and dashes, spaces, leading zeros) and matched to
the course's codes: an exact code wins; `作业8-1` when the course only has `8` is filed under
`8` and flagged; a code the course does not have stays in the unrouted text, with a notice.
Text before the first prefix is kept (unrouted, or filed under the homework the reply was
posted to). Several parts naming the same homework become one part.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from grader.catalog import ANY_PREFIX, COLONS, DASHES

#: flag of a part filed under a shorter code than written (`作业8-1` → `8`)
FILED_UNDER_PARENT = "filed_under_parent"

_LINE_LEAD = re.compile(r"[ \t\u3000#>*_+\-【\[]*(?:\d{1,2}[.)、][ \t\u3000]*)?")
_CLOSERS = re.compile(r"[ \t\u3000*_】\]]*")
_LINE_START_FOLLOW = COLONS + ",，、.。;；(（"


@dataclass(frozen=True)
class Prefix:
    start: int  # where its part begins (the line start, when the prefix starts a line)
    code_start: int  # where the written code begins
    written: str  # the code as the student wrote it (`8-1`, `８`, `7 - 1`)
    code: str  # normalised (`8-1`, `8`, `7-1`)


@dataclass(frozen=True)
class Part:
    code: str  # the course's homework code this part is filed under
    written: tuple[str, ...]  # the codes as written, in order
    text: str
    flag: str | None = None


@dataclass(frozen=True)
class Routing:
    parts: tuple[Part, ...]
    unrouted: str
    unknown: tuple[str, ...]  # codes written that the course does not have (normalised)


def normalise_code(written: str) -> str:
    """`８－１` → `8-1`, `7 - 1` → `7-1`, `07` → `7`."""
    text = unicodedata.normalize("NFKC", written)
    for dash in DASHES:
        text = text.replace(dash, "-")
    pieces = [p.strip() for p in text.split("-")]
    # leading zeros dropped as text: int() refuses more than 4,300 digits (`作业111…：` was a 500)
    return "-".join(p.lstrip("0") or "0" for p in pieces if p)


def _line_start(text: str, at: int) -> int | None:
    """The start of `at`'s line when only spaces or Markdown marks come before `at`, else None."""
    start = text.rfind("\n", 0, at) + 1
    return start if _LINE_LEAD.fullmatch(text, start, at) is not None else None


def _after_closers(text: str, at: int) -> str:
    match = _CLOSERS.match(text, at)
    end = match.end() if match else at
    return text[end] if end < len(text) else ""


def _prefix_start(text: str, start: int, end: int) -> int | None:
    """Where the part of a candidate at text[start:end] begins, or None when it is no prefix."""
    following = _after_closers(text, end)
    line_start = _line_start(text, start)
    if line_start is not None:
        ok = following == "" or following in _LINE_START_FOLLOW or following.isspace()
        return line_start if ok else None
    before = text[start - 1]
    separated = before.isspace() or unicodedata.category(before).startswith("P")
    return start if separated and following != "" and following in COLONS else None


def find_prefixes(text: str) -> list[Prefix]:
    found = []
    for match in ANY_PREFIX.finditer(text):
        start = _prefix_start(text, match.start(), match.end())
        if start is not None:
            written = match["code"]
            found.append(Prefix(start, match.start("code"), written, normalise_code(written)))
    return found


def resolve_code(code: str, codes: Collection[str]) -> tuple[str | None, str | None]:
    """(the course code to file under, flag), or (None, None) when the course has no such code."""
    if code in codes:
        return code, None
    pieces = code.split("-")
    # only parents as long as the course's longest code: `作业1-1-1-…` (30,000 pieces) tried every
    # one of its parents, each joined anew, and took a core 18 s
    longest = max((c.count("-") + 1 for c in codes), default=1)
    for cut in range(min(len(pieces) - 1, longest), 0, -1):
        parent = "-".join(pieces[:cut])
        if parent in codes:
            return parent, FILED_UNDER_PARENT
    return None, None


def _canonical(text: str, prefix: Prefix, code: str) -> str:
    """The segment with its written code replaced by the course's code when they differ, so the
    grader (which reads `作业<code>`) sees the homework the part was filed under."""
    if prefix.written == code:
        return text
    at = prefix.code_start - prefix.start
    return f"{text[:at]}{code}{text[at + len(prefix.written):]}"


def split_reply(text: str, codes: Collection[str], default: str | None = None) -> Routing:
    """Split `text` at its prefixes.

    On the course thread (`default` None) text before the first prefix and parts naming an
    unknown code stay unrouted. On a homework (`default` its code) nothing stays unrouted: the
    leading text belongs to that homework, an unknown code's part stays with the part before
    it, and a reply with no text at all still makes one (empty) part for the files.
    """
    prefixes = find_prefixes(text)
    lead = (text[: prefixes[0].start] if prefixes else text).strip()
    pieces: list[_Piece] = [_Piece(default, "", None, lead)] if default is not None and lead else []
    unrouted, unknown = ([] if default is not None else [lead]), []
    for i, prefix in enumerate(prefixes):
        end = prefixes[i + 1].start if i + 1 < len(prefixes) else len(text)
        segment = text[prefix.start : end]
        code, flag = resolve_code(prefix.code, codes)
        if code is not None:
            pieces.append(_Piece(code, prefix.written, flag, _canonical(segment, prefix, code).strip()))
            continue
        unknown.append(prefix.code)
        if default is None:
            unrouted.append(segment.strip())
        elif pieces:
            pieces[-1] = pieces[-1].extended(segment.strip())
        else:
            pieces.append(_Piece(default, "", None, segment.strip()))
    if default is not None and not pieces:
        pieces.append(_Piece(default, "", None, ""))
    return Routing(_merge(pieces), "\n\n".join(u for u in unrouted if u),
                   tuple(dict.fromkeys(unknown)))


@dataclass(frozen=True)
class _Piece:
    code: str
    written: str
    flag: str | None
    text: str

    def extended(self, more: str) -> _Piece:
        return _Piece(self.code, self.written, self.flag, f"{self.text}\n\n{more}")


def _merge(pieces: Sequence[_Piece]) -> tuple[Part, ...]:
    groups: dict[str, list[_Piece]] = {}
    for piece in pieces:
        groups.setdefault(piece.code, []).append(piece)
    return tuple(
        Part(code, tuple(p.written for p in group if p.written),
             "\n\n".join(p.text for p in group if p.text), next((p.flag for p in group if p.flag), None))
        for code, group in groups.items()
    )


@dataclass(frozen=True)
class FileRef:
    name: str
    kind: str  # "image" | "code"


def assign_files(routing: Routing, files: Sequence[FileRef], code_graded: Collection[str],
                 default: str | None = None) -> list[str | None]:
    """Which part (by code) each file goes to, in file order; None when there is no part.

    1. a file whose name appears in a part's text goes to that part (`![loss](loss.png)`);
    2. a code package goes to the first part whose homework grades code (6-2's MNIST task);
    3. otherwise to the homework the reply was posted to, else to the first part.
    """
    codes = [p.code for p in routing.parts]
    if not codes:
        return [None for _ in files]
    fallback = default if default in codes else codes[0]
    graded = next((c for c in codes if c in code_graded), None)
    result: list[str | None] = []
    for ref in files:
        named = next((p.code for p in routing.parts if ref.name in p.text), None)
        if named is None and ref.kind == "code" and graded is not None:
            named = graded
        result.append(named or fallback)
    return result
