"""Prize draws and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, utcnow


class Draw(Base):
    """One run of a reward rule. The seed stays secret until reveal; only its hash is public.

    `rule` is the public rule (`app.draws` JSON form); `options` are the eligibility options
    that decide the entries (`by`, `correct_only`, `min_score`); `rule_index` is the position of
    the homework's reward rule it runs (None for an explicit rule). `excluded` lists, at freeze,
    every reply left out and why (shown to staff only). `created_at` is the commit time.
    `withdrawal` (the record's version-2 object) is set on a draw that replaces winners who
    withdrew from a revealed draw; `replaces_id` then names that draw (or an aborted draw
    that carried the same withdrawal).
    """

    __tablename__ = "draws"
    __table_args__ = (
        CheckConstraint(
            "status IN ('committed', 'frozen', 'revealed', 'aborted')", name="status"
        ),
        UniqueConstraint("replaces_id"),  # a draw is replaced at most once
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rule_index: Mapped[int | None]
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    title: Mapped[str] = mapped_column(Text, default="")
    prize: Mapped[str] = mapped_column(Text, default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="committed")
    seed: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    freeze_at: Mapped[datetime]
    frozen_at: Mapped[datetime | None]
    early_freeze_reason: Mapped[str | None] = mapped_column(Text)
    public_value_source: Mapped[str | None] = mapped_column(Text)
    frozen_list: Mapped[str | None] = mapped_column(Text)
    list_hash: Mapped[str | None] = mapped_column(String(64))
    entry_count: Mapped[int | None]
    excluded: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    public_value: Mapped[str | None] = mapped_column(Text)
    key: Mapped[str | None] = mapped_column(String(64))
    winners: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    revealed_at: Mapped[datetime | None]
    aborted_at: Mapped[datetime | None]
    abort_reason: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("draws.id"))
    withdrawal: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # record version 3 (docs/draws.md §11); `version` is None for the version 1/2 draws
    version: Mapped[int | None]
    deadline: Mapped[datetime | None]
    late: Mapped[bool | None]
    criteria: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    beacon_round: Mapped[int | None] = mapped_column(BigInteger)
    beacon_signature: Mapped[str | None] = mapped_column(String(96))
    metadata_hash: Mapped[str | None] = mapped_column(String(64))
    excluded_list: Mapped[str | None] = mapped_column(Text)
    excluded_hash: Mapped[str | None] = mapped_column(String(64))
    excluded_count: Mapped[int | None]
    audit_head: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did what. Each row carries the hash of the previous one, so edits break the chain."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # no forks
    hash: Mapped[str] = mapped_column(String(64), unique=True)
