"""API tokens: named, listed, expiring, revocable by their owner and by admins.

A token is shown once; the database keeps only its SHA-256 (`app.security.hash_api_token`).
"""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.errors import NotFound
from app.models import ApiToken, User, utcnow
from app.security import hash_api_token, new_api_token
from app.services.audit import record

MAX_TOKEN_DAYS = 3650
#: how stale a token's "last used" may get
LAST_USE_STEP = timedelta(minutes=1)


def create_token(session: Session, user: User, label: str = "", expires_days: int | None = None) -> str:
    token = new_api_token()
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    session.add(ApiToken(user_id=user.id, label=label.strip()[:64], token_hash=hash_api_token(token),
                         expires_at=expires))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The token's account (one statement), or None for an unknown, revoked or expired token or
    a disabled account. Its last use is written at most once per `LAST_USE_STEP`: the page
    shows it to the minute, and a write (and its row lock) on every API call is not worth that."""
    row = session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(
            ApiToken.token_hash == hash_api_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    now = utcnow()
    if row is None or not row.user.is_active or (row.expires_at is not None and row.expires_at <= now):
        return None
    last = row.last_used_at
    if last is None or now - (last if last.tzinfo else last.replace(tzinfo=UTC)) >= LAST_USE_STEP:
        row.last_used_at = now
    return row.user


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they say when)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.id.desc())))


def revoke_token(session: Session, token_id: int, actor: User) -> ApiToken:
    """Revoke a token of `actor`'s own, or, for an admin, anyone's (recorded in the audit log)."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.id and actor.role != "admin"):
        raise NotFound("No API token {id}", id=token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        if row.user_id != actor.id:
            record(session, actor, "token.revoke", f"user:{row.user_id}", {"token": row.id})
    return row
