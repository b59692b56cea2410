"""Prize draws: commit, freeze, reveal, abort, replace (admins), the public record (anyone),
entries and exclusions (staff)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.deps import AdminUser, CsrfChecked, CurrentUser, SessionDep, StaffUser, get_locale
from app.draws import DrawError, Entry
from app.i18n import translate
from app.models import Assignment, Draw, utcnow
from app.services import draws as service
from app.services.course_staff import require_course_staff
from app.services.courses import get_assignment
from app.services.draws import DrawRefused
from app.services.entries import REASONS, Exclusion, collect_entries

router = APIRouter(tags=["draws"])
TEXT = 1000


@contextmanager
def refusals(request: Request) -> Iterator[None]:
    """A refused draw step becomes an HTTP error in the reader's language."""
    try:
        yield
    except DrawError as exc:
        raise DrawRefused(exc, get_locale(request)) from None


class DrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule_index: int | None = Field(default=None, ge=0)
    rule: dict[str, Any] | None = None
    freeze_at: datetime | None = None
    prize: str | None = Field(default=None, max_length=TEXT)
    replaces_draw_id: int | None = Field(default=None, ge=1)
    #: a draw committed at or after the homework's deadline must say so (docs/draws.md §11.2)
    late: bool = False


class FreezeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    early_freeze_reason: str | None = Field(default=None, max_length=TEXT)
    public_value_source: str | None = Field(default=None, max_length=TEXT)
    allow_pending: bool = False


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_value: str | None = Field(default=None, max_length=2 * TEXT)  # version 1/2 draws
    #: the drand quicknet signature of the round a version 3 lottery named at commit
    beacon_signature: str | None = Field(default=None, max_length=200)


class AbortIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=TEXT)


class ReplacementIn(BaseModel):
    """A revealed draw: `withdrawn` (entry ids of its winners) and `reason`; an aborted one:
    neither (it is drawn again with its rule)."""

    model_config = ConfigDict(extra="forbid")

    withdrawn: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list, max_length=10_000)
    reason: str | None = Field(default=None, max_length=TEXT)
    freeze_at: datetime | None = None
    prize: str | None = Field(default=None, max_length=TEXT)


def _aware(moment: datetime | None, assignment: Assignment) -> datetime | None:
    """A time without a zone is read in the course's time zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo(assignment.course.timezone))


def summary(session: SessionDep, draw: Draw) -> dict[str, Any]:
    """The record without the (possibly long) frozen list, plus links and the staff title."""
    data = service.public_record(session, draw)
    del data["frozen_list"]
    withdrawal = service.withdrawal_from(session, draw)
    data.update(title=draw.title, rule_index=draw.rule_index,
                replaced_by_draw_id=service.replaced_by(session, draw),
                withdrawn_entry_ids=[] if withdrawal is None else withdrawal["withdrawn_entry_ids"],
                record_url=f"/api/v1/draws/{draw.id}/record", page_url=f"/draws/{draw.id}")
    return data


@router.post("/courses/{slug}/assignments/{code}/draws", status_code=201, dependencies=[CsrfChecked])
def commit(slug: str, code: str, body: DrawIn, request: Request, session: SessionDep,
           admin: AdminUser) -> JSONResponse:
    """Commit a draw of a reward rule (`rule_index`) or an explicit `rule`: returns the record
    with the commitment SHA-256(seed); the seed stays on the server until reveal."""
    assignment = get_assignment(session, slug, code)
    with refusals(request):
        draw = service.commit_draw(
            session, assignment, admin, rule_index=body.rule_index, rule=body.rule,
            freeze_at=_aware(body.freeze_at, assignment), prize=body.prize,
            replaces_id=body.replaces_draw_id, late=body.late,
        )
    return JSONResponse(service.public_record(session, draw), status_code=201)


@router.get("/courses/{slug}/assignments/{code}/draws")
def list_draws(slug: str, code: str, session: SessionDep) -> list[dict[str, Any]]:
    """Every draw of the homework, newest first, aborted ones included."""
    assignment = get_assignment(session, slug, code)
    return [summary(session, d) for d in service.draws_of(session, assignment)]


@router.post("/draws/{draw_id}/freeze", dependencies=[CsrfChecked])
def freeze(draw_id: int, request: Request, session: SessionDep, admin: AdminUser,
           body: FreezeIn | None = None) -> dict[str, Any]:
    body = body or FreezeIn()
    with refusals(request):
        draw = service.freeze_draw(
            session, draw_id, admin, early_freeze_reason=body.early_freeze_reason,
            public_value_source=body.public_value_source, allow_pending=body.allow_pending,
        )
    return service.public_record(session, draw)


@router.post("/draws/{draw_id}/reveal", dependencies=[CsrfChecked])
def reveal(draw_id: int, request: Request, session: SessionDep, admin: AdminUser,
           body: RevealIn | None = None) -> dict[str, Any]:
    body = body or RevealIn()
    with refusals(request):
        draw = service.reveal_draw(session, draw_id, admin, public_value=body.public_value,
                                   beacon_signature=body.beacon_signature)
    return service.public_record(session, draw)


@router.post("/draws/{draw_id}/abort", dependencies=[CsrfChecked])
def abort(draw_id: int, body: AbortIn, request: Request, session: SessionDep,
          admin: AdminUser) -> dict[str, Any]:
    with refusals(request):
        draw = service.abort_draw(session, draw_id, admin, reason=body.reason)
    return service.public_record(session, draw)


@router.post("/draws/{draw_id}/replacements", status_code=201, dependencies=[CsrfChecked])
def replace(draw_id: int, request: Request, session: SessionDep, admin: AdminUser,
            body: ReplacementIn | None = None) -> JSONResponse:
    """Commit the draw that replaces draw `draw_id`: winners of a revealed draw withdrew
    (same kind of rule for as many, none of its winners in the list), or an aborted draw is
    drawn again. Returns the new draw's record."""
    body = body or ReplacementIn()
    with refusals(request):
        old = service.get_draw(session, draw_id)
        assignment = session.get(Assignment, old.assignment_id)
        assert assignment is not None
        draw = service.replace_draw(
            session, draw_id, admin, withdrawn=body.withdrawn, reason=body.reason,
            freeze_at=_aware(body.freeze_at, assignment), prize=body.prize,
        )
    return JSONResponse(service.public_record(session, draw), status_code=201)


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=TEXT)


@router.post("/draws/{draw_id}/withdraw", status_code=201, dependencies=[CsrfChecked])
def withdraw(draw_id: int, body: WithdrawIn, request: Request, session: SessionDep,
             user: CurrentUser) -> JSONResponse:
    """A winner gives up their prize from their own account: the replacement draw is committed
    at once (the record shows `withdrawn_by: winner`) and drawn by the admins with a new beacon
    round. Returns the replacement's record."""
    with refusals(request):
        draw = service.withdraw_own_prize(session, draw_id, user, reason=body.reason)
    return JSONResponse(service.public_record(session, draw), status_code=201)


@router.get("/draws/{draw_id}/record")
def record(draw_id: int, session: SessionDep) -> JSONResponse:
    """The public record that `camp draw verify` and `verify_draw.py` check (no seed before
    reveal or abort)."""
    data = service.public_record(session, service.get_draw(session, draw_id))
    return JSONResponse(data, headers={"content-disposition": f'inline; filename="draw-{draw_id}.json"'})


def entry_json(position: int, entry: Entry) -> dict[str, Any]:
    return {"position": position, "entry_id": entry.entry_id, "floor": entry.floor,
            "name": entry.name, "score": None if entry.score is None else str(entry.score),
            "likes": entry.likes}


def exclusion_json(item: Exclusion, locale: str) -> dict[str, Any]:
    return {**item.to_json(), "message": translate(locale, REASONS[item.reason], **item.params)}


@router.get("/draws/{draw_id}/entries")
def entries(draw_id: int, request: Request, session: SessionDep, staff: StaffUser) -> dict[str, Any]:
    """Staff: the entries (frozen, or a live preview before the freeze) and every reply left
    out, with its reason."""
    locale = get_locale(request)
    draw = service.get_draw(session, draw_id)
    owner = session.get(Assignment, draw.assignment_id)
    assert owner is not None
    require_course_staff(session, staff, owner.course)
    found = service.entry_view(session, draw)
    return {"draw_id": draw_id, "frozen": found.frozen, "pending": found.pending,
            "entries": [entry_json(i, e) for i, e in enumerate(found.entries, 1)],
            "excluded": [exclusion_json(x, locale) for x in found.excluded]}


@router.get("/courses/{slug}/assignments/{code}/entries")
def preview(slug: str, code: str, request: Request, session: SessionDep, staff: StaffUser,
            rule_index: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """Staff: who would enter reward rule `rule_index` if it were frozen now."""
    assignment = get_assignment(session, slug, code)
    require_course_staff(session, staff, assignment.course)
    locale = get_locale(request)
    with refusals(request):
        spec = service.reward_spec(assignment, rule_index, None)
    found = collect_entries(session, assignment, spec.rule, spec.options, utcnow())
    return {"rule_index": rule_index, "frozen": False, "pending": found.pending,
            "entries": [entry_json(i, e) for i, e in enumerate(found.entries, 1)],
            "excluded": [exclusion_json(x, locale) for x in found.excluded]}
