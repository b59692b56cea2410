"""The in-app inbox, what each user wants by e-mail, and the delivery details prize winners give.

None of these tables is page content: a logged-in page is never cached, so their writes do not
move the page version (app/models/page_versions.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class Notification(Base):
    """One inbox item. `key` names the event (`graded:<submission>:<attempt>`, `won:<draw>:<entry>`,
    ...): unique per user, so an event that is handled twice (a Celery retry, a resent form)
    still makes one item."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_notifications_user_id_key"),
        # the header's unread count and the inbox page read this index only
        Index("ix_notifications_user_id_read_at_id", "user_id", "read_at", "id"),
        Index("ix_notifications_mail_state", "mail_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(120))
    #: plain values the message is written from, in the reader's language when shown
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: a path on this site
    link: Mapped[str] = mapped_column(String(500), default="/")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    #: none (not wanted by mail) · pending (a mail task will send it) · sending · sent · failed ·
    #: digest (waits for the daily digest)
    mail_state: Mapped[str] = mapped_column(String(8), default="none")
    mail_tries: Mapped[int] = mapped_column(default=0)


class NotificationPrefs(Base):
    """Which kinds a user wants by e-mail, and whether as one digest a day. No row: no mail."""

    __tablename__ = "notification_prefs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: comma-separated kinds (graded, failed, reviewed, replied, quoted, won)
    email_kinds: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[bool] = mapped_column(default=False)
    #: the site-time-zone day of the last digest sent (one per day, however often the job runs)
    last_digest_on: Mapped[date | None]


class PrizeClaim(Base):
    """A winner's delivery details for one draw: only admins read them, and they are erased
    `claim_retention_days` after they were given (`camp claims erase`, also run by the sweeper)."""

    __tablename__ = "prize_claims"
    __table_args__ = (UniqueConstraint("draw_id", "user_id", name="uq_prize_claims_draw_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the details were erased (the row stays: the prize was claimed, by whom, when)
    erased_at: Mapped[datetime | None]
