"""Instructor pages: every homework of a course with its counts, and one homework's dashboard
(status counts, queue age, failure reasons, score distribution, the filterable submissions
table, CSV export, rejudge)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app import paging
from app.deps import CsrfChecked, SessionDep, StaffUser, get_locale
from app.i18n import lazy, translate
from app.models import Assignment, utcnow
from app.services import course_staff, dashboard
from app.services.chart import score_chart
from app.services.course_editor import can_edit
from app.services.courses import get_assignment, get_course
from app.services.leaderboard import view
from app.services.rejudge import rejudge_assignment, rejudge_submission
from app.services.submissions import get_submission
from app.templating import render
from app.web.navigation import redirect

router = APIRouter(prefix="/staff")
NOTICES = {
    "rejudged": lazy("Submission #{floor} is queued for grading again."),
    "already_queued": lazy("Submission #{floor} was already waiting for a grader."),
    "rejudged_all": lazy("{n} submissions are queued for grading again."),
}


@router.get("")
def staff_home(request: Request, session: SessionDep, staff: StaffUser) -> Response:
    return render(request, "staff_home.html", courses=course_staff.staff_courses(session, staff))


@router.get("/courses/{slug}")
def course_overview(slug: str, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    course = get_course(session, slug)
    course_staff.require_course_staff(session, staff, course)
    counts = dashboard.counts_by_assignment(session, [a.id for a in course.assignments])
    return render(request, "staff_course.html", course=course, counts=counts, now=utcnow(),
                  timezone=course.timezone, statuses=dashboard.STATUSES,
                  can_edit=can_edit(session, staff, course))


def _filters(status: str, verdict: str, late: str, name: str) -> dashboard.Filters:
    return dashboard.Filters(status=status, verdict=verdict, late=late, name=name).clean()  # type: ignore[arg-type]


def dashboard_url(assignment: Assignment, **params: object) -> str:
    base = f"/staff/courses/{assignment.course.slug}/assignments/{assignment.code}"
    query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
    return f"{base}?{query}" if query else base


Filter = Annotated[str, Query(max_length=64)]


@router.get("/courses/{slug}/assignments/{code}")
def assignment_dashboard(
    slug: str, code: str, request: Request, session: SessionDep, staff: StaffUser,
    status: Filter = "", verdict: Filter = "", late: Filter = "", name: Filter = "",
    page: Annotated[int, Query(ge=1)] = 1, notice: Filter = "", floor: int = 0, n: int = 0,
) -> Response:
    assignment = get_assignment(session, slug, code)
    course_staff.require_course_staff(session, staff, assignment.course)
    filters = _filters(status, verdict, late, name)
    rows, total = dashboard.table(session, assignment, filters, *paging.window(page, paging.TABLE_PAGE))
    locale = get_locale(request)
    board = view(session, assignment, staff)
    chart = None
    if board.rows:
        chart = score_chart([r.value for r in board.rows],
                            title=translate(locale, "Score distribution ({n} students)", n=len(board.rows)))
    message = translate(locale, NOTICES[notice], floor=floor, n=n) if notice in NOTICES else None
    return render(
        request, "staff_assignment.html",
        course=assignment.course, assignment=assignment, timezone=assignment.course.timezone,
        counts=dashboard.counts(session, assignment), failures=dashboard.failure_reasons(session, assignment),
        rows=rows, total=total, page=page, pages=paging.page_count(total, paging.TABLE_PAGE), filters=filters,
        statuses=dashboard.STATUSES, verdicts=dashboard.verdicts(session, assignment), chart=chart,
        now=utcnow(), notice=message,
        page_url=lambda p: dashboard_url(assignment, **filters.query(page=p)),
        csv_url=f"{dashboard_url(assignment)}/submissions.csv?{urlencode(filters.query())}",
    )


CSV_HEADER = ["submission_id", "floor", "name", "status", "verdict", "score", "review_score", "late",
              "hidden", "attempts", "submitted_at", "graded_at", "error"]


@router.get("/courses/{slug}/assignments/{code}/submissions.csv")
def submissions_csv(
    slug: str, code: str, session: SessionDep, staff: StaffUser,
    status: Filter = "", verdict: Filter = "", late: Filter = "", name: Filter = "",
) -> Response:
    """Every submission that matches the filters, UTF-8 with a BOM for Excel."""
    assignment = get_assignment(session, slug, code)
    course_staff.require_course_staff(session, staff, assignment.course)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    zone = ZoneInfo(assignment.course.timezone)

    def local(moment: datetime) -> str:
        """In the course's zone, with its offset: what the staff read on the pages, unambiguous."""
        return moment.astimezone(zone).isoformat(sep=" ", timespec="seconds")
    for row in dashboard.all_rows(session, assignment, _filters(status, verdict, late, name)):
        s = row.submission
        writer.writerow([
            s.id, s.floor, row.author, s.status, s.verdict or "", "" if s.score is None else repr(s.score),
            "" if s.review_score is None else repr(s.review_score), int(s.is_late), int(s.hidden),
            s.attempts, local(s.created_at), local(s.graded_at) if s.graded_at else "",
            s.error or "",
        ])
    filename = f"submissions-{slug}-{code}.csv"
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


@router.get("/submissions/{submission_id}")
def submission_page(submission_id: int, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    """What the dashboard's "Details" opens: one submission as a page (the API keeps its JSON)."""
    submission = get_submission(session, submission_id)
    course_staff.require_course_staff(session, staff, submission.assignment.course)
    return render(request, "staff_submission.html", submission=submission,
                  timezone=submission.assignment.course.timezone)


@router.post("/submissions/{submission_id}/rejudge", dependencies=[CsrfChecked])
def rejudge_one_form(submission_id: int, session: SessionDep, staff: StaffUser) -> Response:
    submission = get_submission(session, submission_id)
    started = rejudge_submission(session, submission, staff)
    return redirect(dashboard_url(submission.assignment, notice="rejudged" if started else "already_queued",
                                  floor=submission.floor))


@router.post("/courses/{slug}/assignments/{code}/rejudge", dependencies=[CsrfChecked])
def rejudge_all_form(slug: str, code: str, session: SessionDep, staff: StaffUser) -> Response:
    assignment = get_assignment(session, slug, code)
    result = rejudge_assignment(session, assignment, staff)
    return redirect(dashboard_url(assignment, notice="rejudged_all", n=len(result.ids)))
