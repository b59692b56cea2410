"""The error shape every JSON error has, and the statuses any operation may answer, for OpenAPI.

One handler (app/main.py) and the screening middlewares (app/body_reader.py) answer errors as
`{"detail": <message in the caller's language>, "code": <stable word>}`; this states it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    #: what went wrong, in the caller's language (zh-CN by default, English on request)
    detail: str
    #: a stable word for programs: not_found, invalid, too_large, too_slow, too_many, ...
    code: str


_STATUSES = {
    400: "The request could not be read (bad upload, text not UTF-8)",
    401: "Not logged in, or the API token is missing, expired or revoked",
    403: "Not allowed for this account, or the CSRF token is missing",
    404: "No such thing (ids beyond 32 bits included)",
    408: "The body arrived too slowly and was cut off",
    409: "Conflicts with what exists (a taken name, a draw in another state)",
    413: "Too large: upload, JSON body, image frames or pixels",
    415: "A file of a kind Camp does not accept",
    422: "Invalid input: a field, a number out of range, characters Camp does not accept",
    429: "Too many at once or too fast: uploads per address, log-in attempts, replies per account "
         "(see Retry-After), quotas",
    503: "The database or the broker cannot be reached; nothing was saved (see Retry-After)",
    507: "The server's disk is full; nothing was saved",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text} for status, text in _STATUSES.items()
}
