"""Accounts and API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow
from app.names import name_key


def _key_of_name(context: DefaultExecutionContext) -> str:
    return name_key(str(context.get_current_parameters()["name"]))


class Role(StrEnum):
    student = "student"
    instructor = "instructor"
    admin = "admin"

    @property
    def is_staff(self) -> bool:
        return self in (Role.instructor, Role.admin)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('student', 'instructor', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: the name as compared: NFKC, case-folded, look-alike letters mapped (app/services/names.py)
    name_key: Mapped[str] = mapped_column(String(160), unique=True, default=_key_of_name)
    #: where a password-reset link is sent (optional)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.student.value)
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: every session cookie carries the value it was issued with; moving it ends them all
    #: (log-out, password change or reset, role change, disable)
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_staff(self) -> bool:
        return self.role_enum.is_staff


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    #: None: never expires
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class AuthThrottle(Base):
    """Failed log-ins (and registrations, reset requests) counted per key: `login:name:<key>`,
    `login:addr:<address>`, `register:addr:<address>`, ... (app/services/throttle.py)."""

    __tablename__ = "auth_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]


class ReplyRate(Base):
    """Each account's replies in its current minute and hour (app/services/reply_rate.py): one row
    per account, moved by one upsert per reply, so every web process counts the same replies."""

    __tablename__ = "reply_rates"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    minute_start: Mapped[datetime]
    minute_count: Mapped[int]
    hour_start: Mapped[datetime]
    hour_count: Mapped[int]
