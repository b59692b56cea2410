"""Honest likes: where accounts signed up, the suspicious-like report, and staff exclusions.

Before a `top_likes` draw the staff see groups of accounts that liked replies of the homework
(at any time: likes taken back count too) and look farmed: accounts registered from one
address, or with one device cookie, or created within minutes of each other, that liked the
same reply. Nothing is decided automatically: staff exclude an account's likes with a reason
(audit-logged); the draw's eligibility text names the excluded accounts and the reason
(entries.with_course_rules).

A draw takes the exclusions at its commit (its eligibility text names them, bound to the
commitment), so excluding while a `top_likes` draw of the homework is committed or frozen is
refused: the draw would have counted the likes anyway, and nobody would have seen why. Abort the
draw (publicly), exclude, and commit a new one replacing it.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid
from app.models import Assignment, Draw, Exclusion, LikeEvent, SignUp, Submission, User, utcnow
from app.services.audit import record
from app.services.course_staff import require_course_staff

DEVICE_COOKIE = "camp_device"
CREATED_TOGETHER = timedelta(minutes=10)
MIN_TOGETHER = 5  # accounts created within CREATED_TOGETHER of the next, liking one reply
MIN_SHARED = 3  # accounts of one address liking one reply
MAX_NOTE = 500


def new_device_id() -> str:
    return secrets.token_urlsafe(16)


def note_sign_up(session: Session, user: User, address: str, device: str) -> None:
    session.add(SignUp(user_id=user.id, address=address[:64], device=device[:64], at=utcnow()))


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    created_at: datetime
    address: str
    device: str
    excluded: bool


@dataclass
class Cluster:
    """Accounts that liked one reply and share a sign-up trait."""

    reason: str  # "same_address" | "same_device" | "created_together"
    floor: int
    submission_id: int
    accounts: list[Account] = field(default_factory=list)


def _likers(session: Session, assignment: Assignment) -> dict[int, list[Account]]:
    """Submission id -> accounts that liked it at any time, from the like history (own likes are
    refused, so not listed). Not only the likes standing now: a farm took its likes back while
    the staff read this report and liked again once the draw was committed without exclusions."""
    excluded = set(session.scalars(select(Exclusion.target_id).where(
        Exclusion.assignment_id == assignment.id, Exclusion.kind == "liker")))
    rows = session.execute(
        select(LikeEvent.submission_id, User.id, User.name, User.created_at, SignUp.address, SignUp.device)
        .distinct()
        .join(Submission, Submission.id == LikeEvent.submission_id)
        .join(User, User.id == LikeEvent.user_id)
        .outerjoin(SignUp, SignUp.user_id == User.id)
        .where(Submission.assignment_id == assignment.id, LikeEvent.liked.is_(True)))
    out: dict[int, list[Account]] = defaultdict(list)
    for sid, uid, name, created, address, device in rows:
        out[sid].append(Account(uid, name, created, address or "", device or "", uid in excluded))
    return out


def _together(accounts: list[Account]) -> list[list[Account]]:
    """Runs of accounts created within CREATED_TOGETHER of the previous one."""
    runs: list[list[Account]] = []
    for account in sorted(accounts, key=lambda a: a.created_at):
        if runs and account.created_at - runs[-1][-1].created_at <= CREATED_TOGETHER:
            runs[-1].append(account)
        else:
            runs.append([account])
    return [run for run in runs if len(run) >= MIN_TOGETHER]


def suspicious_clusters(session: Session, assignment: Assignment) -> list[Cluster]:
    floors = dict(session.execute(select(Submission.id, Submission.floor).where(
        Submission.assignment_id == assignment.id)).all())
    clusters = []
    for sid, accounts in _likers(session, assignment).items():
        for reason, key in (("same_address", "address"), ("same_device", "device")):
            groups: dict[str, list[Account]] = defaultdict(list)
            for a in accounts:
                if getattr(a, key):
                    groups[getattr(a, key)].append(a)
            least = MIN_SHARED if reason == "same_address" else 2
            clusters += [Cluster(reason, floors[sid], sid, g) for g in groups.values() if len(g) >= least]
        clusters += [Cluster("created_together", floors[sid], sid, run) for run in _together(accounts)]
    return sorted(clusters, key=lambda c: (-len(c.accounts), c.floor, c.reason))


def exclude_likers(session: Session, assignment: Assignment, staff: User, user_ids: list[int],
                   note: str) -> list[Exclusion]:
    """The likes of these accounts stop counting toward this homework's rewards. All or nothing:
    an account already excluded refuses the whole request."""
    require_course_staff(session, staff, assignment.course)
    running = running_like_draws(session, assignment)
    if running:
        raise Conflict("Draw {id} (most likes) of homework {code} took the excluded accounts when it was "
                       "committed, so it would still count these likes: abort draw {id} first (publicly, "
                       "with the reason), exclude them, then commit a new draw replacing it",
                       id=running[0], code=assignment.code)
    note = note.strip()[:MAX_NOTE]
    if not note:
        raise Invalid("Say why these accounts' likes are excluded")
    ids = sorted(set(user_ids))
    if not ids:
        raise Invalid("Choose at least one account")
    known = set(session.scalars(select(User.id).where(User.id.in_(ids))))
    if known != set(ids):
        raise Invalid("No account {id}", id=min(set(ids) - known))
    already = session.scalars(select(User.name).join(Exclusion, Exclusion.target_id == User.id).where(
        Exclusion.assignment_id == assignment.id, Exclusion.kind == "liker", User.id.in_(ids))).all()
    if already:
        raise Conflict("Already excluded: {names}", names=", ".join(sorted(already)))
    rows = [Exclusion(assignment_id=assignment.id, kind="liker", target_id=uid, reason="like_cluster",
                      note=note, by_id=staff.id) for uid in ids]
    session.add_all(rows)
    session.flush()
    record(session, staff, "likes.exclude", f"assignment:{assignment.id}", {"users": ids, "note": note})
    return rows


def excluded_likers(session: Session, assignment: Assignment) -> list[tuple[int, str, str]]:
    """(user id, name, reason) of every account whose likes the staff excluded on this homework."""
    return [(uid, name, note) for uid, name, note in session.execute(
        select(User.id, User.name, Exclusion.note).join(Exclusion, Exclusion.target_id == User.id)
        .where(Exclusion.assignment_id == assignment.id, Exclusion.kind == "liker")
        .order_by(User.id))]


def running_like_draws(session: Session, assignment: Assignment) -> list[int]:
    """Ids of the homework's `top_likes` draws that are committed or frozen (they hold the
    exclusions they were committed with)."""
    rows = session.execute(select(Draw.id, Draw.rule).where(
        Draw.assignment_id == assignment.id, Draw.status.in_(("committed", "frozen"))).order_by(Draw.id))
    return [draw_id for draw_id, rule in rows if rule.get("kind") == "top_likes"]
