"""Prize claims: a winner of a published draw gives a name, an address and a phone number.

Only that winner may write them; only admins read them (the page and the CSV export, which is
audited); they are erased `claim_retention_days` after they were last given (`erase_expired`).
The CSV neutralises spreadsheet formulas: a cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return gets a leading `'` (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import Forbidden, Invalid, NotFound
from app.i18n import lazy
from app.models import Assignment, Course, Draw, PrizeClaim, Submission, User, utcnow
from app.services.audit import record

MAX_NAME, MAX_ADDRESS, MAX_PHONE = 100, 500, 40
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,38}$")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ClaimContext:
    draw: Draw
    code: str
    course: str
    claim: PrizeClaim | None


def _winner_ids(session: Session, draw: Draw) -> set[int]:
    entry_ids = [int(w["entry_id"]) for w in draw.winners or [] if "entry_id" in w]
    if not entry_ids:
        return set()
    return set(session.scalars(select(Submission.author_id).where(Submission.id.in_(entry_ids))))


def _withdrawn_ids(session: Session, draw: Draw) -> set[int]:
    """Authors of this draw's winning entries who gave up their prize (a replacement draw names
    them in its `withdrawal`; it stands even if that replacement was aborted and drawn again)."""
    entry_ids: set[int] = set()
    for withdrawal in session.scalars(select(Draw.withdrawal).where(Draw.replaces_id == draw.id)):
        if isinstance(withdrawal, dict):
            entry_ids.update(int(i) for i in withdrawal.get("withdrawn_entry_ids", []))
    if not entry_ids:
        return set()
    return set(session.scalars(select(Submission.author_id).where(Submission.id.in_(entry_ids))))


def context_for(session: Session, draw_id: int, user: User) -> ClaimContext:
    """The claim form's draw and the user's claim; refused unless the user won this draw and
    did not give the prize up (then a replacement's winner gets it: the prize goes out once)."""
    draw = session.get(Draw, draw_id) if 0 < draw_id < 2**31 else None
    if draw is None or draw.status != "revealed":
        raise NotFound("No published draw {id}", id=draw_id)
    if user.id not in _winner_ids(session, draw):
        raise Forbidden("Only a winner of this draw can give delivery details")
    if user.id in _withdrawn_ids(session, draw):
        raise Forbidden("You gave this prize up: a replacement draw chose another winner, so there "
                        "is nothing to deliver")
    assignment = session.get(Assignment, draw.assignment_id)
    assert assignment is not None
    claim = session.scalar(select(PrizeClaim).where(PrizeClaim.draw_id == draw.id,
                                                    PrizeClaim.user_id == user.id))
    return ClaimContext(draw, assignment.code, assignment.course.slug, claim)


TOO_LONG = {"name": lazy("The name has at most {n} characters"),
            "address": lazy("The address has at most {n} characters"),
            "phone": lazy("The phone number has at most {n} characters")}


def _clean(value: str, limit: int, field: str, multiline: bool = False) -> str:
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()
    allowed = "\n" if multiline else ""
    if any(unicodedata.category(c).startswith("C") and c not in allowed for c in value):
        raise Invalid("Name, address and phone number cannot contain control characters")
    if not value:
        raise Invalid("Fill in your name, address and phone number")
    if len(value) > limit:
        raise Invalid(TOO_LONG[field], n=limit)
    return value


def submit_claim(session: Session, draw_id: int, user: User, full_name: str, address: str,
                 phone: str, now: datetime | None = None) -> PrizeClaim:
    ctx = context_for(session, draw_id, user)
    values = {"full_name": _clean(full_name, MAX_NAME, "name"),
              "address": _clean(address, MAX_ADDRESS, "address", multiline=True),
              "phone": _clean(phone, MAX_PHONE, "phone")}
    if not _PHONE.match(values["phone"]):
        raise Invalid("A phone number has digits, spaces, dashes or brackets, and may start with +")
    now = now or utcnow()
    claim = ctx.claim
    if claim is None:
        claim = PrizeClaim(draw_id=ctx.draw.id, user_id=user.id, created_at=now)
        session.add(claim)
    claim.full_name, claim.address, claim.phone = values["full_name"], values["address"], values["phone"]
    claim.updated_at, claim.erased_at = now, None
    session.flush()
    return claim


@dataclass(frozen=True)
class ClaimRow:
    claim: PrizeClaim
    user: str
    course: str
    code: str
    draw_title: str


def claims(session: Session, limit: int = 500) -> list[ClaimRow]:
    """Every claim, newest first (admins only: the callers check the role)."""
    rows = session.execute(
        select(PrizeClaim, User.name, Course.slug, Assignment.code, Draw.title)
        .join(User, User.id == PrizeClaim.user_id).join(Draw, Draw.id == PrizeClaim.draw_id)
        .join(Assignment, Assignment.id == Draw.assignment_id).join(Course, Course.id == Assignment.course_id)
        .order_by(PrizeClaim.id.desc()).limit(limit)
    ).all()
    return [ClaimRow(c, name, slug, code, title) for c, name, slug, code, title in rows]


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def claims_csv(session: Session, admin: User, zone: str) -> str:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["draw", "course", "homework", "draw_title", "user", "name", "address", "phone",
                     f"given_at ({zone})", f"erased_at ({zone})"])
    rows = claims(session, limit=100_000)
    for r in rows:
        c = r.claim
        writer.writerow([safe_cell(v) for v in (
            c.draw_id, r.course, r.code, r.draw_title, r.user, c.full_name, c.address, c.phone,
            c.updated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            c.erased_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if c.erased_at else "")])
    record(session, admin, "claims.export", "prize_claims", {"rows": len(rows)})
    return "\ufeff" + out.getvalue()  # a BOM: spreadsheet programs then read the Chinese right


def erase_expired(session: Session, now: datetime, retention_days: int) -> int:
    """Blank the details given more than `retention_days` ago; the row (who claimed what, when) stays."""
    done = session.execute(
        update(PrizeClaim)
        .where(PrizeClaim.erased_at.is_(None), PrizeClaim.updated_at < now - timedelta(days=retention_days))
        .values(full_name="", address="", phone="", erased_at=now))
    return int(getattr(done, "rowcount", 0) or 0)
