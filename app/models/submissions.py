"""Submissions (one reply each), their attachments, grading attempts and likes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow
from app.models.courses import Assignment
from app.models.users import User


class Status(StrEnum):
    queued = "queued"
    running = "running"
    scored = "scored"
    failed = "failed"  # the platform could not grade it; staff are told, the student is not blamed
    rejected = "rejected"  # refused before grading (e.g. an unusable upload)


FINAL_STATUSES = frozenset({Status.scored, Status.failed, Status.rejected})


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("assignment_id", "floor"),
        CheckConstraint(
            "status IN ('queued', 'running', 'scored', 'failed', 'rejected')", name="status"
        ),
        Index("ix_submissions_status_queued_at", "status", "queued_at"),
        Index("ix_submissions_assignment_author", "assignment_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    floor: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    is_late: Mapped[bool] = mapped_column(default=False)
    hidden: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=Status.queued.value)
    verdict: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[float | None]
    #: the staff's review score (set by the review feature); `top_score` rules with `by: review`
    review_score: Mapped[float | None]
    #: the rest of the staff review: a comment only the author (and staff) see, a public mark
    review_comment: Mapped[str | None] = mapped_column(Text)
    featured: Mapped[bool] = mapped_column(default=False)
    reviewed_at: Mapped[datetime | None]
    reviewer_id: Mapped[int | None]  # no foreign key: `author` stays the only link to users
    #: the course-thread post this reply was split from, and how its prefix was read
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_posts.id", ondelete="SET NULL"), index=True
    )
    route_flag: Mapped[str | None] = mapped_column(String(32))
    route_written: Mapped[str | None] = mapped_column(String(64))
    edited_at: Mapped[datetime | None]
    #: "author" (deleted by its author) or "staff" (hidden by the staff), with `hidden`
    hidden_by: Mapped[str | None] = mapped_column(String(16))
    hidden_at: Mapped[datetime | None]
    #: the author marked it as one of their final picks (what the private ranking uses)
    final_pick: Mapped[bool] = mapped_column(default=False, server_default=false())
    messages: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: what the student may see of the program's output (docs/grading.md: two logs)
    log: Mapped[str] = mapped_column(Text, default="")
    #: the log of the run on hidden data: staff only
    staff_log: Mapped[str] = mapped_column(Text, default="", server_default="")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    #: `attempts` when the current grading round began (a rejudge starts a new round)
    attempt_base: Mapped[int] = mapped_column(default=0, server_default="0")
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the submission began waiting for this round's verdict (submitted, or rejudged)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the sweep may send its id to the broker again if it is still queued (None: once
    #: `sweep_stale_queued_seconds` have passed since `queued_at`); see worker/sweep.py
    resend_at: Mapped[datetime | None]
    #: a rejudge's round waits behind first gradings and edits (app/services/grading_order.py)
    low_priority: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    graded_at: Mapped[datetime | None]

    assignment: Mapped[Assignment] = relationship()
    author: Mapped[User] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="submission", order_by="Attachment.id"
    )


class Attachment(Base):
    """A file stored content-addressed under the data dir; `kind` is decided by Camp, not the user."""

    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint("kind IN ('image', 'code', 'file')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(64), default="application/octet-stream")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="attachments")


class GradingAttempt(Base):
    """One try at grading a submission; rejudges add attempts, old ones stay as history."""

    __tablename__ = "grading_attempts"
    __table_args__ = (UniqueConstraint("submission_id", "number"),
                      # the ETA reads the latest finished attempts
                      Index("ix_grading_attempts_finished_at", "finished_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    number: Mapped[int]
    worker: Mapped[str] = mapped_column(String(128), default="")
    #: the Celery node name and main-process pid of the worker that took the claim (its heartbeat
    #: row's key), and the pid of the process that grades: the sweep frees the claim of a dead one
    worker_node: Mapped[str | None] = mapped_column(String(255))
    worker_pid: Mapped[int | None]
    grading_pid: Mapped[int | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: "scored" (a verdict was recorded), "infrastructure_error" (not the student's fault),
    #: "abandoned" (its lease ran out: the worker died or hit the time limit) or "superseded"
    #: (a rejudge started while it ran); None while it runs
    outcome: Mapped[str | None] = mapped_column(String(32))
    verdict: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[float | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class GradingTurn(Base):
    """When a student's latest grading in a queue started: the fair order's "served longest ago
    first" (app/services/grading_order.py) as one row per student and queue, written with each
    claim, instead of the latest of all their attempts (a scan that grew with every grading)."""

    __tablename__ = "grading_turns"

    queue: Mapped[str] = mapped_column(String(16), primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime]


class Like(Base):
    """The current like of one account on one reply (at most one)."""

    __tablename__ = "likes"
    __table_args__ = (UniqueConstraint("submission_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LikeEvent(Base):
    """Append-only history of likes and undos, so the count at any moment can be recomputed."""

    __tablename__ = "like_events"
    __table_args__ = (Index("ix_like_events_submission_at", "submission_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    liked: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)
