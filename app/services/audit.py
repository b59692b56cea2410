"""The audit log: append-only, each row hashing the one before, so a silent edit shows."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import AuditEntry, User, utcnow

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 7_207_001


def entry_hash(prev_hash: str, at: str, actor_id: int | None, action: str, subject: str,
               data: dict[str, Any]) -> str:
    payload = json.dumps(
        [prev_hash, at, actor_id, action, subject, data],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(session: Session, actor: User | None, action: str, subject: str,
           data: dict[str, Any] | None = None) -> AuditEntry:
    data = data or {}
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers: two rows naming the same predecessor would fork the chain.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    last = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    prev = last.hash if last else GENESIS
    at = utcnow().replace(microsecond=0)
    actor_id = actor.id if actor else None
    entry = AuditEntry(
        at=at,
        actor_id=actor_id,
        action=action,
        subject=subject,
        data=data,
        prev_hash=prev,
        hash=entry_hash(prev, at.isoformat(), actor_id, action, subject, data),
    )
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> int | None:
    """The id of the first entry that breaks the chain, or None when the whole log is intact."""
    prev = GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        expected = entry_hash(
            prev, entry.at.isoformat(), entry.actor_id, entry.action, entry.subject, entry.data
        )
        if entry.prev_hash != prev or entry.hash != expected:
            return entry.id
        prev = entry.hash
    return None


def page(session: Session, offset: int, limit: int) -> tuple[list[AuditEntry], dict[int, str], int]:
    """The newest entries first: one page, the names of their actors, and how many in all."""
    total = session.scalar(select(func.count(AuditEntry.id))) or 0
    newest = select(AuditEntry).order_by(AuditEntry.id.desc())
    entries = list(session.scalars(newest.offset(offset).limit(limit)))
    actor_ids = {e.actor_id for e in entries if e.actor_id is not None}
    names = {uid: name for uid, name in
             session.execute(select(User.id, User.name).where(User.id.in_(actor_ids or {0})))}
    return entries, names, total


def entries_of(session: Session, action_prefix: str) -> list[AuditEntry]:
    """Every entry whose action starts with `action_prefix`, in chain order."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action.startswith(action_prefix))
                                .order_by(AuditEntry.id)))


def last_entry(session: Session) -> AuditEntry | None:
    """The head of the chain."""
    return session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
