"""The hidden form token of the reply forms (`once()` in macros.html): a form posted again —
a retry after a lost answer, a double click — is sent where the first post went and files
nothing (app/services/idempotency.py)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.models import IdempotencyKey, User
from app.services.idempotency import Replay, begin, fingerprint, finish
from app.services.uploads import CheckedFile
from app.web.navigation import redirect


def take_token(request: Request, session: Session, user: User, token: str | None, text: str | None,
               checked: list[CheckedFile]) -> IdempotencyKey | Response | None:
    """None without a token (an old page); the first post's redirect when it was used; else the key."""
    if not token:
        return None
    taken = begin(session, user, "form:" + token.strip(), fingerprint(request.url.path, text, checked))
    return redirect(taken.response) if isinstance(taken, Replay) else taken


def answer(session: Session, taken: IdempotencyKey | None, target: str) -> Response:
    if taken is not None:
        finish(session, taken, 303, target)
    return redirect(target)
