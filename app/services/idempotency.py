"""Idempotent submission POSTs: the same `Idempotency-Key` (API header) or form token (browser
form) from the same account answers with what the first request answered, and creates nothing.

The key row is inserted in the request's own transaction, after the upload was read and before
the reply is filed: it commits exactly when the reply does. A client whose first POST committed
but whose connection broke before the answer retries and gets the same submission (and the
daily code limit counts one); a first POST that rolled back left no key, so the retry files it.
Two concurrent requests with one key: PostgreSQL makes the second insert wait for the first
transaction, then it fails on the unique key and the second answers with the first's result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid
from app.models import IdempotencyKey, User
from app.services.uploads import CheckedFile

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Replay:
    """The first request's answer: a status code and a JSON body or a redirect target."""

    status_code: int
    response: str


def fingerprint(path: str, text: str | None, files: list[CheckedFile]) -> str:
    """What makes two requests "the same": the target, the text and each file's name and bytes."""
    digest = hashlib.sha256(path.encode())
    for part in [text or "", *(f"{f.filename}\0{hashlib.sha256(f.data).hexdigest()}" for f in files)]:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


def begin(session: Session, user: User, key: str, request_fingerprint: str) -> IdempotencyKey | Replay:
    """Take `key` for this request (finish it with `finish`), or return the answer of the request
    that took it first."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Invalid("The Idempotency-Key must be 1 to {n} printable characters", n=MAX_KEY_LENGTH)
    found = _replay(session, user, key, request_fingerprint)
    if found is not None:
        return found
    row = IdempotencyKey(user_id=user.id, key=key, fingerprint=request_fingerprint, status_code=0)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent request with this key committed first
        found = _replay(session, user, key, request_fingerprint)
        if found is None:
            raise
        return found
    return row


def finish(session: Session, row: IdempotencyKey, status_code: int, response: str) -> None:
    """Record the answer, in the transaction that created what it describes."""
    row.status_code, row.response = status_code, response
    session.flush()


def _replay(session: Session, user: User, key: str, request_fingerprint: str) -> Replay | None:
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                      IdempotencyKey.key == key))
    if row is None:
        return None
    if row.fingerprint != request_fingerprint:
        raise Conflict("This Idempotency-Key was already used for a different request; use a new key")
    return Replay(row.status_code, row.response)
