"""Refuse form fields that are not valid UTF-8, instead of silently reading them as Latin-1.

Starlette decodes multipart text with a Latin-1 fallback, which would store mojibake such as
`×÷Òµ` for a GBK-encoded `作业`. Camp would rather say "not UTF-8" and store nothing, so the
decoder is replaced by a strict one, whose error becomes a 400 with a clear message.
`tests/test_bad_input.py::test_non_utf8_text_is_refused_clearly` fails if Starlette changes this.
"""

from __future__ import annotations

from starlette import formparsers

NOT_UTF8 = "Form text is not valid UTF-8."
HAS_NUL = "Form text contains NUL."


def _strict_decode(src: bytes | bytearray, codec: str) -> str:
    try:
        text = bytes(src).decode(codec or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise formparsers.MultiPartException(NOT_UTF8) from None
    if "\x00" in text:  # PostgreSQL cannot store it; refused before any query
        raise formparsers.MultiPartException(HAS_NUL)
    return text


def install() -> None:
    formparsers._user_safe_decode = _strict_decode
