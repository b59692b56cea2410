"""The `Idempotency-Key` header on the API's submission POSTs (app/services/idempotency.py)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from app.models import IdempotencyKey, User
from app.services.idempotency import Replay, begin, fingerprint, finish
from app.services.uploads import CheckedFile

HEADER = "idempotency-key"


def take_key(request: Request, session: Session, user: User, text: str | None,
             checked: list[CheckedFile]) -> IdempotencyKey | Response | None:
    """None without the header; the first request's answer when the key was used; else the key."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    taken = begin(session, user, key.strip(), fingerprint(request.url.path, text, checked))
    if isinstance(taken, Replay):
        return Response(taken.response, status_code=taken.status_code, media_type="application/json",
                        headers={"idempotent-replayed": "true"})
    return taken


def answer(session: Session, taken: IdempotencyKey | None, body: dict[str, Any],
           status_code: int = 201) -> JSONResponse:
    if taken is not None:
        # the bytes JSONResponse sends, so a replay is byte-for-byte the first answer
        finish(session, taken, status_code, json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    return JSONResponse(body, status_code=status_code)
