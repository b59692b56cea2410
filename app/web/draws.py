"""Draw pages: the public page of one draw (with staff and admin parts), the homework's draws
with the admin's commit form, and the winners block of the homework page.

The homework page (templates/assignment.html) asks for its rewards block through the Jinja
global `rewards_of(assignment)`, registered below; it queries with the page's own session.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session, object_session

from app.deps import AdminUser, CsrfChecked, CurrentUser, OptionalUser, SessionDep, get_locale
from app.draws import DrawError
from app.draws import beacon as pure_beacon
from app.draws.errors import render as render_draw_error
from app.errors import CampError, Invalid
from app.i18n import lazy, translate
from app.input_guard import small_int
from app.models import Assignment, Draw, User, utcnow
from app.services import draws as service
from app.services.course_staff import is_course_staff
from app.services.courses import get_assignment
from app.services.entries import parse_reward
from app.services.leaderboard import has_leaderboard
from app.templating import render
from app.web.forms import error_text
from app.web.navigation import redirect

router = APIRouter()
Text = Annotated[str, Form()]


WITHDREW = lazy("withdrew")
#: the public excluded list has reason codes only; codes not listed here are shown as they are
PUBLIC_REASONS: dict[str, Any] = {
    "hidden": lazy("Hidden by the staff"), "staff": lazy("Posted by a staff member"),
    "late": lazy("Posted after the deadline"), "pending": lazy("Not graded yet"),
    "grading_failed": lazy("Grading failed (a platform error)"),
    "rejected": lazy("Rejected before grading"), "format_error": lazy("Does not follow the reply format"),
    "not_correct": lazy("Not a correct answer"), "below_min_score": lazy("Score below the minimum"),
    "not_measured": lazy("Not a measured result"), "no_score": lazy("No score"),
    "not_reviewed": lazy("Not reviewed yet"), "duplicate": lazy("Not this student's first valid reply"),
    "not_chosen": lazy("This student's entry is another submission"),
    "prize_kept": lazy("Won the replaced draw and keeps the prize"),
    "withdrew": lazy("Won the replaced draw and gave up the prize"),
    "not_final": lazy("Not one of this student's final picks"),
    "copied": lazy("Copies an earlier reply (confirmed by the staff)"),
}


def viewer_lines(session: Session, draw: Draw, user: User | None) -> list[dict[str, Any]]:
    """For the signed-in viewer: each of their replies to this homework and whether it is an
    entry (position and floor) or left out (the public reason code), once frozen."""
    if user is None or draw.frozen_list is None:
        return []
    mine = service.own_floors(session, draw, user)
    if not mine:
        return []
    lines = draw.frozen_list.split("\n")[:-1]
    positions = {int(line.split("\t", 1)[0]): i for i, line in enumerate(lines, 1)}
    reasons = {x["submission_id"]: x["reason"] for x in draw.excluded or []}
    return [{"floor": floor, "position": positions.get(sid), "reason": reasons.get(sid)}
            for sid, floor in mine]


def own_winning(draw: Draw, user: User | None, session: Session) -> list[dict[str, Any]]:
    """The viewer's winning entries of a revealed draw (they may withdraw from their account)."""
    if user is None or draw.status != "revealed" or not draw.winners:
        return []
    ids = [w["entry_id"] for w in draw.winners]
    mine = service.own_among(session, ids, user)
    return [w for w in draw.winners if w["entry_id"] in mine]


def winners_line(winners: Sequence[dict[str, Any]], locale: str,
                 withdrawn: Collection[int] = ()) -> str:
    """`#820 thunder95、#819 …` as the seed announced them (`, ` in English); winners who
    withdrew afterwards are marked."""
    sep = "、" if locale == "zh_CN" else ", "
    mark = f"（{translate(locale, WITHDREW)}）" if locale == "zh_CN" else f" ({WITHDREW})"
    return sep.join(f"#{w['floor']} {w['name']}{mark if w['entry_id'] in withdrawn else ''}"
                    for w in winners)


def describe_rule(rule: dict[str, Any], locale: str) -> str:
    kind = rule.get("kind")
    if kind == "fixed_ranks":
        return translate(locale, "Fixed ranks {ranks}", ranks=rule["ranks"])
    messages = {"lottery": lazy("{count} at random"), "top_score": lazy("Top {count} by score"),
                "top_likes": lazy("Top {count} by likes")}
    return translate(locale, messages.get(str(kind), str(kind)), count=rule.get("count"))


@dataclass(frozen=True)
class RewardBlock:
    """What the homework page shows: the leaderboard link and each draw (newest first), with
    the entry ids of winners who withdrew (by draw id)."""

    leaderboard: bool
    draws: list[Draw]
    withdrawn: dict[int, list[int]]


def withdrawn_by_draw(draws: Sequence[Draw]) -> dict[int, list[int]]:
    """Draw id -> entry ids of its winners who withdrew (as the replacements recorded it)."""
    found: dict[int, list[int]] = {}
    for d in draws:
        replaced = d.replaces_id
        if d.withdrawal is not None and replaced is not None and replaced == d.withdrawal["draw_id"]:
            found[replaced] = d.withdrawal["withdrawn_entry_ids"]
    return found


def rewards_of(assignment: Assignment) -> RewardBlock:
    session = object_session(assignment)
    assert session is not None
    draws = service.draws_of(session, assignment)
    return RewardBlock(has_leaderboard(assignment), draws, withdrawn_by_draw(draws))


# --- one draw ----------------------------------------------------------------------------


def _draw_page(request: Request, session: Session, draw: Draw, user: User | None,
               error: str | None = None, status_code: int = 200) -> Response:
    assignment = session.get(Assignment, draw.assignment_id)
    assert assignment is not None
    record = service.public_record(session, draw)
    staff = is_course_staff(user, assignment.course)
    replaced_by = service.replaced_by(session, draw)
    return render(
        request, "draw.html", status_code,
        draw=draw, record=record, assignment=assignment, course=assignment.course,
        timezone=assignment.course.timezone, entries=service.entry_view(session, draw) if staff else None,
        replaced_by=replaced_by, error=error, withdrawal=service.withdrawal_from(session, draw),
        withdrawn_winners=_withdrawn_winners(session, draw),
        replaceable=replaced_by is None and _replaceable(draw),
        mine=viewer_lines(session, draw, user), PUBLIC_REASONS=PUBLIC_REASONS,
        my_wins=own_winning(draw, user, session) if replaced_by is None and _replaceable(draw) else [],
        beacon_at=None if draw.beacon_round is None else pure_beacon.round_time(draw.beacon_round),
        beacon_url=None if draw.beacon_round is None else
        f"https://api.drand.sh/{pure_beacon.CHAIN_HASH}/public/{draw.beacon_round}",
        default_freeze=_local_input(utcnow() + service.REPLACEMENT_FREEZE_DELAY, assignment.course.timezone),
    )


def _replaceable(draw: Draw) -> bool:
    """Aborted, or revealed with winners and a rule that can draw again (not fixed ranks)."""
    if draw.status == "aborted":
        return True
    return draw.status == "revealed" and bool(draw.winners) and draw.rule.get("kind") != "fixed_ranks"


def _withdrawn_winners(session: Session, draw: Draw) -> list[dict[str, Any]]:
    """For a replacement: the winners of the revealed draw who withdrew, as that draw lists them."""
    if draw.withdrawal is None:
        return []
    source = session.get(Draw, draw.withdrawal["draw_id"])
    gone = set(draw.withdrawal["withdrawn_entry_ids"])
    return [w for w in (source.winners if source else None) or [] if w["entry_id"] in gone]


def _local_input(moment: datetime, zone: str) -> str:
    """A value for `<input type="datetime-local">` in the course's time zone."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


@router.get("/draws/{draw_id}")
def draw_page(draw_id: int, request: Request, session: SessionDep, user: OptionalUser) -> Response:
    return _draw_page(request, session, service.get_draw(session, draw_id), user)


_RECORD_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def local_message(exc: DrawError, locale: str, zone: str) -> str:
    """A draw error as the form shows it: its times in the course's zone, like the form's fields
    (the record and the API keep UTC)."""
    tz = ZoneInfo(zone)

    def local(value: Any) -> Any:
        if isinstance(value, str) and _RECORD_TIME.fullmatch(value):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(tz)
            return f"{moment:%Y-%m-%d %H:%M:%S} ({zone})"
        return value

    return render_draw_error(exc.code, {k: local(v) for k, v in exc.params.items()}, locale)


def _step(request: Request, session: Session, draw_id: int, user: User,
          action: Callable[[], object]) -> Response:
    try:
        action()
    except DrawError as exc:
        session.rollback()
        draw = service.get_draw(session, draw_id)
        assignment = session.get(Assignment, draw.assignment_id)
        assert assignment is not None
        return _draw_page(request, session, draw, user,
                          local_message(exc, get_locale(request), assignment.course.timezone),
                          409 if exc.code in service.CONFLICT_CODES else 422)
    except CampError as exc:
        session.rollback()
        draw = service.get_draw(session, draw_id)
        return _draw_page(request, session, draw, user, error_text(request, exc), exc.status_code)
    return redirect(f"/draws/{draw_id}")


@router.post("/draws/{draw_id}/freeze", dependencies=[CsrfChecked])
def freeze_form(draw_id: int, request: Request, session: SessionDep, admin: AdminUser,
                early_freeze_reason: Text = "", public_value_source: Text = "",
                allow_pending: Text = "") -> Response:
    return _step(request, session, draw_id, admin, lambda: service.freeze_draw(
        session, draw_id, admin, early_freeze_reason=early_freeze_reason or None,
        public_value_source=public_value_source or None, allow_pending=bool(allow_pending)))


@router.post("/draws/{draw_id}/reveal", dependencies=[CsrfChecked])
def reveal_form(draw_id: int, request: Request, session: SessionDep, admin: AdminUser,
                public_value: Text = "", beacon_signature: Text = "") -> Response:
    return _step(request, session, draw_id, admin, lambda: service.reveal_draw(
        session, draw_id, admin, public_value=public_value or None,
        beacon_signature=beacon_signature or None))


@router.post("/draws/{draw_id}/withdraw", dependencies=[CsrfChecked])
def withdraw_form(draw_id: int, request: Request, session: SessionDep, user: CurrentUser,
                  reason: Text = "") -> Response:
    """A winner gives up their prize from their own account; the replacement opens."""
    created: list[Draw] = []

    def action() -> None:
        created.append(service.withdraw_own_prize(session, draw_id, user, reason=reason))

    response = _step(request, session, draw_id, user, action)
    return redirect(f"/draws/{created[0].id}") if created else response


@router.post("/draws/{draw_id}/abort", dependencies=[CsrfChecked])
def abort_form(draw_id: int, request: Request, session: SessionDep, admin: AdminUser,
               reason: Text = "") -> Response:
    return _step(request, session, draw_id, admin,
                 lambda: service.abort_draw(session, draw_id, admin, reason=reason))


@router.post("/draws/{draw_id}/replacements", dependencies=[CsrfChecked])
def replace_form(draw_id: int, request: Request, session: SessionDep, admin: AdminUser,
                 withdrawn: Annotated[list[int] | None, Form()] = None, reason: Text = "",
                 freeze_at: Text = "", prize: Text = "") -> Response:
    """Commit the replacement of draw `draw_id` (the winners ticked withdrew) and open it."""
    old = service.get_draw(session, draw_id)
    assignment = session.get(Assignment, old.assignment_id)
    assert assignment is not None
    created: list[Draw] = []

    def action() -> None:
        created.append(service.replace_draw(
            session, draw_id, admin, withdrawn=withdrawn or [], reason=reason or None,
            freeze_at=_local_time(freeze_at, assignment.course.timezone), prize=prize.strip() or None))

    response = _step(request, session, draw_id, admin, action)
    return redirect(f"/draws/{created[0].id}") if created else response


# --- the homework's draws ------------------------------------------------------------------


def _draws_page(request: Request, session: Session, assignment: Assignment,
                error: str | None = None, status_code: int = 200) -> Response:
    draws = service.draws_of(session, assignment)
    replaced = {d.replaces_id for d in draws if d.replaces_id is not None}
    rules: list[tuple[int, dict[str, Any], dict[str, Any] | None]] = []
    for index, data in enumerate(assignment.reward_rules or []):
        try:
            rules.append((index, data, parse_reward(data).rule.to_json()))
        except DrawError:
            rules.append((index, data, None))
    return render(
        request, "draws.html", status_code,
        assignment=assignment, course=assignment.course, timezone=assignment.course.timezone,
        draws=draws, rules=rules, error=error,
        replaceable=[d for d in draws if d.status == "aborted" and d.id not in replaced
                     and d.withdrawal is None],
        withdrawn=withdrawn_by_draw(draws),
        default_freeze=_local_input(assignment.due_at, assignment.course.timezone),
    )


@router.get("/courses/{slug}/assignments/{code}/draws")
def draws_page(slug: str, code: str, request: Request, session: SessionDep,
               user: OptionalUser) -> Response:
    return _draws_page(request, session, get_assignment(session, slug, code))


def _local_time(value: str, zone: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("Cannot read the time {value}", value=value) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


@router.post("/courses/{slug}/assignments/{code}/draws", dependencies=[CsrfChecked])
def commit_form(slug: str, code: str, request: Request, session: SessionDep, admin: AdminUser,
                rule_index: Annotated[int, Form()], freeze_at: Text = "", prize: Text = "",
                replaces_draw_id: Text = "", late: Text = "") -> Response:
    assignment = get_assignment(session, slug, code)
    try:
        draw = service.commit_draw(
            session, assignment, admin, rule_index=rule_index,
            freeze_at=_local_time(freeze_at, assignment.course.timezone), prize=prize.strip() or None,
            replaces_id=small_int(replaces_draw_id),
            late=bool(late),
        )
    except DrawError as exc:
        session.rollback()
        return _draws_page(request, session, assignment,
                           local_message(exc, get_locale(request), assignment.course.timezone), 422)
    except CampError as exc:
        session.rollback()
        return _draws_page(request, session, assignment, error_text(request, exc), exc.status_code)
    return redirect(f"/draws/{draw.id}")

