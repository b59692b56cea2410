"""Refusing input no handler can use, before any handler (or query) sees it.

- Integers beyond 32 bits in the path or the query string: no id, page or offset is that big,
  and the databases disagree on what to do with them (SQLite raised OverflowError past 64 bits,
  PostgreSQL answered 503 past 31). A path with one is a page that does not exist (404); a query
  value with one is invalid (422).
- NUL and unpaired surrogates anywhere in the URL or a JSON body (PostgreSQL cannot store them).
- JSON bodies: at most `MAX_JSON_BYTES`, `MAX_DEPTH` levels, `MAX_ITEMS` keys and values in
  all, numbers within 32 bits. Parsed in a thread (app/offload.py): an 11.6 MB body with a
  million keys stalled the event loop for 9.9 s.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from app.i18n import LazyText, lazy

INT_LIMIT = 2**31 - 1
MAX_JSON_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 20_000
_INTEGER = re.compile(r"[+-]?\d+")


class Unusable(Exception):
    def __init__(self, status: int, message: LazyText, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.status, self.message, self.params, self.code = status, message, params, code


def _bad_text(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (from JSON's \ud800)
        return True
    return False


def _huge(text: str) -> bool:
    if not _INTEGER.fullmatch(text):
        return False
    digits = text.lstrip("+-").lstrip("0")
    # counted before int(): int() refuses more than 4,300 digits (a 5,000-digit page was a 500)
    return len(digits) > 10 or int(digits or "0") > INT_LIMIT


def small_int(text: str, max_digits: int = 9) -> int | None:
    """`text` as an int when it is only ASCII digits, at most `max_digits` of them; else None.

    Not `str.isdigit()` then `int()`: `"²".isdigit()` is True and `int("²")` raises (a 500), and
    a 5,000-digit string raises too."""
    text = text.strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def screen_url(path: str, query: bytes) -> None:
    """Raise `Unusable` for a path (decoded) or query string that no handler could use."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    if _bad_text(path) or any(_bad_text(k) or _bad_text(v) for k, v in pairs):
        raise Unusable(422, lazy("The address contains characters Camp does not accept"))
    if any(len(part) > 9 and _huge(part) for part in path.split("/")):
        raise Unusable(404, lazy("This page does not exist"))
    for key, value in pairs:
        if len(value) > 9 and _huge(value):
            raise Unusable(422, lazy("The number {name} is out of range"), name=key[:40])


def screen_json(body: bytes) -> None:
    """Parse (in a thread) and walk a JSON body; raise `Unusable` when it is over a limit."""
    if len(body) > MAX_JSON_BYTES:
        raise Unusable(413, lazy("The JSON body is too large: at most {kb} KB"), kb=MAX_JSON_BYTES // 1024)
    try:
        data = json.loads(body)
    except RecursionError:
        raise Unusable(422, lazy("The JSON body is nested too deeply")) from None
    except ValueError:
        return  # not JSON: the handler answers that, in its own words
    _walk(data)


def _walk(data: object) -> None:
    stack: list[tuple[object, int]] = [(data, 0)]
    items = 0
    while stack:
        node, depth = stack.pop()
        items += 1
        if depth > MAX_DEPTH:
            raise Unusable(422, lazy("The JSON body is nested too deeply"))
        if items > MAX_ITEMS:
            raise Unusable(413, lazy("The JSON body has too many items"))
        if isinstance(node, dict):
            for key, value in node.items():
                if _bad_text(key):
                    raise Unusable(422, lazy("The text contains characters Camp does not accept"))
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
        elif isinstance(node, str) and _bad_text(node):
            raise Unusable(422, lazy("The text contains characters Camp does not accept"))
        elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > INT_LIMIT:
            raise Unusable(422, lazy("A number in the request is out of range"))
