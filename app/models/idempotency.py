"""Idempotency keys: a retried submission POST gets the first one's answer, not a second row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class IdempotencyKey(Base):
    """One key per account, written in the same transaction as the rows its request created,
    so the key exists exactly when they do."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the request (path, text, files): the same key on another request is refused
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: what the first request answered (status code, and the JSON body or the redirect target)
    status_code: Mapped[int] = mapped_column(default=201)
    response: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
