"""A reply form whose files are over the limit still reaches its page, without the files.

Refusing it with a bare 413 replaced the page with JSON and lost what the student typed (a 21 MB
zip on a phone). For the reply forms only (`KEEP_TEXT_PATHS`), the body reader instead reads the
rest of an oversized multipart body without keeping it (up to `DISCARD_FACTOR` times the limit,
still under its time budget), keeps the complete text fields from its first `keep_bytes`, and
passes on a small body of just those fields. The scope carries the refusal; the page's handler
raises it (`raise_if_refused`) and renders the form again with the text in place.
"""

from __future__ import annotations

import math
import re

from starlette.types import Scope

from app.errors import TooLarge
from app.i18n import megabytes

KEEP_TEXT_PATHS = re.compile(r"^/courses/[^/]+/(assignments/[^/]+/)?replies$")
DISCARD_FACTOR = 4
#: room the form's other fields get beside the largest file (the request's cap is the sum); the
#: text fields come first in the form, so this much of an oversized body holds them
FORM_ROOM_BYTES = KEEP_BYTES = 1024 * 1024
_SCOPE_KEY = "camp.upload_refused_at"


def keeps_text(scope: Scope) -> bool:
    """A browser's multipart POST to a reply form (the JSON API keeps its plain 413)."""
    headers = dict(scope.get("headers", []))
    return (scope.get("method") == "POST" and KEEP_TEXT_PATHS.match(scope["path"]) is not None
            and _boundary(headers.get(b"content-type", b"")) is not None
            and b"text/html" in headers.get(b"accept", b""))


def _boundary(content_type: bytes) -> bytes | None:
    if not content_type.lower().startswith(b"multipart/form-data"):
        return None
    found = re.search(rb'boundary="?([^";]+)"?', content_type)
    return found.group(1) if found else None


def text_fields(content_type: bytes, prefix: bytes) -> bytes:
    """The complete parts of `prefix` that are not files, as a multipart body of their own."""
    boundary = _boundary(content_type)
    assert boundary is not None
    delimiter = b"--" + boundary
    pieces = prefix.split(delimiter)
    kept = []
    for piece in pieces[1:-1]:  # the last piece may be cut off; a file part is dropped whole
        head = piece.split(b"\r\n\r\n", 1)[0]
        if b"filename=" not in head.lower():
            kept.append(delimiter + piece)
    return b"".join(kept) + delimiter + b"--\r\n"


def mark_refused(scope: Scope, body_length: int, limit: int, new_length: int) -> None:
    scope[_SCOPE_KEY] = (body_length, limit)
    headers = [(k, v) for k, v in scope.get("headers", []) if k != b"content-length"]
    scope["headers"] = [*headers, (b"content-length", str(new_length).encode())]


def raise_if_refused(scope: Scope) -> None:
    """In the reply handlers, first: the files were over the limit and were not kept."""
    refused = scope.get(_SCOPE_KEY)
    if refused is not None:
        size, limit = refused
        raise TooLarge("The upload is {size} MB; a file may be at most {file} MB and a reply {total} MB "
                       "in all. Nothing was posted; your text is kept below.",
                       size=f"{math.ceil(size * 10 / 1024**2) / 10:g}",  # rounded up: never "21 of 21"
                       file=megabytes(limit - FORM_ROOM_BYTES), total=megabytes(limit))
