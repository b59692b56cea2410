"""Fair-prize records: where an account signed up from, staff exclusions from draws, and
similar-reply pairs waiting for a staff decision (see docs/integrity.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class SignUp(Base):
    """Where and from which browser an account was registered (for the like-cluster report).
    The address is stored as the web server saw it; the device is a random cookie of Camp's."""

    __tablename__ = "sign_ups"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), default="", index=True)
    device: Mapped[str] = mapped_column(String(64), default="", index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Exclusion(Base):
    """A staff decision that a reply (`reason` copied) or an account's likes (`reason`
    like_cluster) do not count for this homework's draws. Audit-logged when made."""

    __tablename__ = "draw_exclusions"
    __table_args__ = (
        UniqueConstraint("assignment_id", "kind", "target_id"),
        CheckConstraint("kind IN ('submission', 'liker')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    #: "submission": the reply is left out of draws; "liker": the account's likes do not count
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SimilarPair(Base):
    """Two replies of one homework that look alike; `first_id` is the earlier (it keeps credit).
    Never a verdict by itself: staff confirm (the later one is excluded) or dismiss."""

    __tablename__ = "similar_pairs"
    __table_args__ = (
        UniqueConstraint("first_id", "second_id", "kind"),
        CheckConstraint("kind IN ('text', 'code')", name="kind"),
        CheckConstraint("state IN ('open', 'confirmed', 'dismissed')", name="state"),
        Index("ix_similar_pairs_assignment_state", "assignment_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    first_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    second_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    similarity: Mapped[float]
    state: Mapped[str] = mapped_column(String(16), default="open")
    decided_by: Mapped[int | None]
    decided_at: Mapped[datetime | None]
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
