"""Errors that carry their HTTP meaning; one handler renders JSON for the API, a page otherwise."""

from __future__ import annotations

from typing import Any

from app.i18n import lazy, megabytes


class CampError(Exception):
    """`message` is an English msgid with `{name}` placeholders, translated when rendered."""

    status_code = 400
    code = "bad_request"
    #: seconds after which the same request may succeed (sent as Retry-After), when known
    retry_after: int | None = None

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class NotAuthenticated(CampError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(CampError):
    status_code = 403
    code = "forbidden"


class NotFound(CampError):
    status_code = 404
    code = "not_found"


class Conflict(CampError):
    status_code = 409
    code = "conflict"


class TooLarge(CampError):
    status_code = 413
    code = "too_large"

    @classmethod
    def file(cls, name: str, size: int, limit: int) -> TooLarge:
        """A file over its limit (the upload check, the capped reader and the notebook reader)."""
        return cls(lazy("The file {name} is {size} MB; the limit is {limit} MB"),
                   name=name, size=megabytes(size), limit=megabytes(limit))


class UnsupportedMedia(CampError):
    status_code = 415
    code = "unsupported_media_type"


class Invalid(CampError):
    status_code = 422
    code = "invalid"


def error_headers(error: CampError) -> dict[str, str]:
    """The headers an error's answer carries, as a page or as JSON."""
    headers = {}
    if error.status_code == 401:
        headers["www-authenticate"] = "Bearer"
    if error.retry_after is not None:
        headers["retry-after"] = str(error.retry_after)
    return headers
