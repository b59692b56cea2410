"""Refuse multipart text fields that are not valid UTF-8, or that carry NUL, before a handler runs.

Starlette decodes multipart text with a Latin-1 fallback, which would store mojibake such as
`×÷Òµ` for a GBK-encoded `作业`. Camp would rather say "not UTF-8" and store nothing. The body
reader (app/body_reader.py) has the whole body before the app sees it, so the text fields are
checked there with python-multipart's own parser: no private Starlette function is replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:  # the library declares its callback table for type checkers only
    from python_multipart.multipart import MultipartCallbacks

from app.i18n import lazy
from app.input_guard import Unusable

NOT_UTF8 = lazy("The text is not valid UTF-8")
HAS_NUL = lazy("The text contains characters Camp does not accept")


def screen_form(content_type: bytes, body: bytes) -> None:
    """Raise `Unusable` when a text field (a part without a file name) is not UTF-8 or has NUL.
    A body that is not well-formed multipart is left to Starlette, which refuses it."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        return
    fields = _TextFields()
    try:
        parser = MultipartParser(boundary, fields.callbacks())
        parser.write(body)
        parser.finalize()
    except Exception:  # malformed: Starlette answers it in its own words
        return
    for value in fields.values:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            raise Unusable(400, NOT_UTF8, code="bad_encoding") from None
        if "\x00" in text:  # PostgreSQL cannot store it
            raise Unusable(422, HAS_NUL)


class _TextFields:
    """Collects the bytes of every part that is not a file."""

    def __init__(self) -> None:
        self.values: list[bytes] = []
        self._begin()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_part_data": lambda data, start, end: self._data.extend(data[start:end]),
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._field, self._value, self._data = bytearray(), bytearray(), bytearray()
        self._headers: dict[bytes, bytes] = {}

    def _header_end(self) -> None:
        self._headers[bytes(self._field).lower()] = bytes(self._value)
        self._field, self._value = bytearray(), bytearray()

    def _end(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"filename" not in options:
            self.values.append(bytes(self._data))
