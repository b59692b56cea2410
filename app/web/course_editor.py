"""The course editor: admins edit every course, instructors the courses that list them.

    GET  /staff/courses/{slug}/edit                  homework list, YAML export, what changed
    GET  /staff/courses/{slug}/edit/homework/{code}  one homework's form (`/edit/new`: a new one)
    POST /staff/courses/{slug}/edit/review           validate the form; errors inline, else the diff
    GET  /staff/courses/{slug}/edit/course           the course's title, description, instructors
    POST /staff/courses/{slug}/edit/review-course    as /review, for that form
    POST /staff/courses/{slug}/edit/save             store the reviewed document (version checked)
    GET  /staff/courses/{slug}/course.yaml           the course file (same validation as an upload)

The Markdown preview of a homework's text uses the reply box's `/markdown/preview` (rendered
and sanitised on the server; the form is not submitted). Every POST checks the CSRF token.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.deps import CsrfChecked, SessionDep, StaffUser, get_locale
from app.errors import CampError, Invalid, NotFound
from app.i18n import lazy, translate
from app.models import Course, Role, User
from app.services import course_editor as editor
from app.services.course_check import APP_SETTINGS, CourseFileError, Problem
from app.services.course_form import (
    MAX_REWARD_ROWS,
    HomeworkForm,
    RewardRow,
    blank_homework,
    form_of,
    homework_of,
    with_homework,
)
from app.services.courses import get_course
from app.templating import render
from app.web.forms import error_text
from app.web.navigation import redirect
from grader.catalog import KINDS
from grader.formats import SETTINGS

router = APIRouter(prefix="/staff/courses/{slug}")
REWARD_KINDS = {
    "fixed_ranks": lazy("Fixed ranks (fixed_ranks)"),
    "lottery": lazy("Lottery (lottery)"),
    "top_score": lazy("Top scores (top_score)"),
    "top_likes": lazy("Most likes (top_likes)"),
}
#: the document travels with the review page; a course file is at most 1 MB
MAX_DOCUMENT = 1024 * 1024
Text = Annotated[str, Form(max_length=50_000)]
Line = Annotated[str, Form(max_length=400)]


def _course(session: Session, slug: str, user: User) -> Course:
    course = get_course(session, slug)
    editor.require_editor(session, user, course)
    return course


@router.get("/edit")
def edit_home(
    slug: str,
    request: Request,
    session: SessionDep,
    staff: StaffUser,
    saved: Annotated[int, Query(ge=0, le=10_000)] = 0,
    rejudge: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    course = _course(session, slug, staff)
    codes = {a.code: a for a in course.assignments}
    affected = [codes[c] for c in rejudge.split(",") if c in codes]
    return render(
        request,
        "course_edit.html",
        course=course,
        saved=saved,
        affected=affected,
        graded=editor.graded_counts(session, affected),
        error=None,
        problems=[],
    )


@router.get("/course.yaml")
def export_course(slug: str, session: SessionDep, staff: StaffUser) -> Response:
    course = _course(session, slug, staff)
    return Response(
        editor.export_yaml(session, course),
        media_type="application/x-yaml; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{course.slug}.yaml"',
            "cache-control": "no-store",
        },
    )


def _form_page(
    request: Request,
    course: Course,
    form: Any,
    *,
    original: str,
    version: str,
    problems: list[Problem] | None = None,
    index: int = -1,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    locale = get_locale(request)
    located = problems or []
    inline: dict[str, list[str]] = {}
    head = f"assignments[{index}]"
    for problem in located:
        if problem.where == head or problem.where.startswith((head + " (", head + ".")):
            inline.setdefault(_input_of(problem.where[len(head) :]), []).append(problem.text(locale))
        else:
            inline.setdefault("", []).append(f"{problem.where}: {problem.text(locale)}")
    rows = [*form.rewards, None]  # one empty row adds a rule
    return render(
        request,
        "homework_edit.html",
        status_code,
        course=course,
        form=form,
        original=original,
        version=version,
        problems=located,
        inline=inline,
        kinds=list(KINDS),
        settings_help={kind: sorted(SETTINGS.get(kind, {})) for kind in KINDS},
        app_settings=APP_SETTINGS,
        reward_kinds=REWARD_KINDS,
        rows=rows[:MAX_REWARD_ROWS],
        error=error,
        locale=locale,
    )


def _input_of(path: str) -> str:
    """`(3-1).grading.kind` → `grading_kind`; `.rewards[1].count` → `reward-1`."""
    rest = path.split(").", 1)[1] if path.startswith(" (") else path.lstrip(".")
    if rest.startswith("rewards["):
        return "reward-" + rest[len("rewards[") :].split("]", 1)[0]
    if rest in ("grading.kind", "grading"):
        return "grading_kind" if rest.endswith("kind") else "grading_settings"
    if rest == "grading.daily_code_limit":
        return "daily_code_limit"
    if rest.startswith("grading."):
        return "grading_settings"
    return rest.split(".", 1)[0]


@router.get("/edit/homework/{code}")
def edit_homework(slug: str, code: str, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    course = _course(session, slug, staff)
    document = editor.course_document(session, course)
    homework = next((h for h in document["assignments"] if h["code"] == code), None)
    if homework is None:
        raise NotFound("No homework {code} in this course", code=code)
    return _form_page(request, course, form_of(homework), original=code, version=editor.version_of(document))


@router.get("/edit/new")
def new_homework(slug: str, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    course = _course(session, slug, staff)
    document = editor.course_document(session, course)
    return _form_page(
        request, course, form_of(blank_homework()), original="", version=editor.version_of(document)
    )


async def _rows(request: Request) -> list[dict[str, str]]:
    form = await request.form()
    rows = []
    for index in range(MAX_REWARD_ROWS + 1):
        row = {
            name: str(form.get(f"reward-{index}-{name}") or "")[:2000]
            for name in (
                "kind",
                "count",
                "ranks",
                "text",
                "prize",
                "eligibility",
                "by",
                "min_score",
                "delete",
            )
        }
        if f"reward-{index}-kind" in form:
            rows.append(row)
    return rows


@router.post("/edit/review", dependencies=[CsrfChecked])
async def review(
    slug: str,
    request: Request,
    session: SessionDep,
    staff: StaffUser,
    version: Line,
    original: Line = "",
    code: Line = "",
    title: Line = "",
    body: Text = "",
    reply_format: Line = "",
    opens: Line = "",
    due: Line = "",
    late_policy: Line = "accept",
    grading_kind: Line = "",
    daily_code_limit: Line = "",
    grading_settings: Text = "",
) -> Response:
    """Validate the form against the whole course; errors go back inline, else the diff is shown.
    Async only to read the reward rows (their number varies); the work runs in the thread pool."""
    fields = {
        "code": code,
        "title": title,
        "body": body,
        "reply_format": reply_format,
        "opens": opens,
        "due": due,
        "late_policy": late_policy,
        "grading_kind": grading_kind,
        "daily_code_limit": daily_code_limit,
        "grading_settings": grading_settings,
    }
    rows = await _rows(request)
    return await run_in_threadpool(_review, request, session, staff, slug, version, original, fields, rows)


def _review(request: Request, session: Session, staff: User, slug: str, version: str, original: str,
            fields: dict[str, str], rows: list[dict[str, str]]) -> Response:
    course = _course(session, slug, staff)
    document = editor.course_document(session, course)
    old = next((h for h in document["assignments"] if h["code"] == original), None) if original else None
    if original and old is None:
        raise NotFound("No homework {code} in this course", code=original)
    homework, unreadable = homework_of(fields, rows, old)
    changed, index = with_homework(document, original, homework)
    problems = _form_problems(index, homework, unreadable)
    try:
        changes = editor.proposed(session, course, changed)
    except CourseFileError as exc:
        problems += exc.problems
    if problems or not changes:  # every problem at once (what the form could not read, what the check found)
        error = None if problems else translate(get_locale(request), "Nothing was changed")
        return _form_page(request, course, _shown(fields, rows, homework), original=original,
                          version=version, problems=problems, index=index, error=error, status_code=422)
    return render(
        request,
        "course_edit_diff.html",
        course=course,
        changes=changes,
        version=version,
        document=json.dumps(changed, ensure_ascii=False, default=str),
        code=homework.get("code"),
        back=f"/staff/courses/{slug}/edit/" + (f"homework/{original}" if original else "new"),
    )


def _form_problems(index: int, homework: dict[str, Any], unreadable: list[str]) -> list[Problem]:
    where = f"assignments[{index}] ({homework.get('code')})"
    out = []
    for path in unreadable:
        if path == "grading":
            out.append(Problem(f"{where}.grading", lazy("Settings are YAML lines like key: value")))
    return out


def _shown(fields: dict[str, str], rows: list[dict[str, str]], homework: dict[str, Any]) -> Any:
    """The form as typed (a refused form keeps every character)."""
    kept = [
        RewardRow(**{k: v for k, v in row.items() if k != "delete"})
        for row in rows
        if row.get("kind") and not row.get("delete")
    ]
    return HomeworkForm(
        code=str(homework.get("code") or fields["code"]),
        title=fields["title"],
        body=fields["body"],
        reply_format=fields["reply_format"],
        opens=fields["opens"],
        due=fields["due"],
        late_policy=fields["late_policy"],
        grading_kind=fields["grading_kind"],
        daily_code_limit=fields["daily_code_limit"],
        grading_settings=fields["grading_settings"],
        rewards=tuple(kept),
    )


@router.post("/edit/save", dependencies=[CsrfChecked])
def save(
    slug: str,
    request: Request,
    session: SessionDep,
    staff: StaffUser,
    version: Line,
    document: Annotated[str, Form(max_length=MAX_DOCUMENT)],
) -> Response:
    course = _course(session, slug, staff)
    try:
        proposed = json.loads(document)
    except ValueError:
        raise Invalid("The reviewed course could not be read; open the editor again") from None
    if not isinstance(proposed, dict):
        raise Invalid("The reviewed course could not be read; open the editor again")
    try:
        saved = editor.save(session, course, proposed, version, staff)
    except CourseFileError as exc:
        session.rollback()
        locale = get_locale(request)
        return render(
            request,
            "course_edit.html",
            422,
            course=get_course(session, slug),
            saved=0,
            affected=[],
            graded={},
            error=translate(locale, exc.summary),
            problems=[(p.where, p.text(locale)) for p in exc.problems],
        )
    except CampError as exc:
        session.rollback()
        return render(
            request,
            "course_edit.html",
            exc.status_code,
            course=get_course(session, slug),
            saved=0,
            affected=[],
            graded={},
            error=error_text(request, exc),
            problems=[],
        )
    rejudge = ",".join(a.code for a in saved.affected if a.graded)
    return redirect(
        f"/staff/courses/{slug}/edit?saved={len(saved.changes)}" + (f"&rejudge={rejudge}" if rejudge else "")
    )


# --- the course's own fields -----------------------------------------------------------------


def _course_page(request: Request, course: Course, values: dict[str, str], *, version: str, admin: bool,
                 problems: list[Problem] | None = None, error: str | None = None,
                 status_code: int = 200) -> Response:
    locale = get_locale(request)
    inline: dict[str, list[str]] = {}
    for problem in problems or []:
        inline.setdefault(problem.where.split("[", 1)[0].split(".", 1)[0], []).append(problem.text(locale))
    return render(request, "course_settings_edit.html", status_code, course=course, values=values,
                  version=version, admin=admin, problems=problems or [], inline=inline, error=error,
                  locale=locale)


@router.get("/edit/course")
def edit_course_fields(slug: str, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    course = _course(session, slug, staff)
    document = editor.course_document(session, course)
    values = {"title": document["title"], "description": document["description"],
              "instructors": ", ".join(document["instructors"])}
    return _course_page(request, course, values, version=editor.version_of(document),
                        admin=staff.role == Role.admin.value)


def _names(text: str) -> list[str]:
    return [n for n in re.split(r"[\s,，、;；]+", text) if n]


@router.post("/edit/review-course", dependencies=[CsrfChecked])
def review_course(slug: str, request: Request, session: SessionDep, staff: StaffUser, version: Line,
                  title: Line = "", description: Text = "", instructors: Line = "") -> Response:
    course = _course(session, slug, staff)
    document = editor.course_document(session, course)
    admin = staff.role == Role.admin.value
    changed = {**document, "title": title.strip(), "description": description.replace("\r\n", "\n")}
    if admin:  # only admins choose who teaches a course
        changed["instructors"] = _names(instructors)
    values = {"title": title, "description": description,
              "instructors": instructors if admin else ", ".join(document["instructors"])}
    try:
        changes = editor.proposed(session, course, changed)
    except CourseFileError as exc:
        return _course_page(request, course, values, version=version, admin=admin, problems=exc.problems,
                            status_code=422)
    if not changes:
        return _course_page(request, course, values, version=version, admin=admin, status_code=422,
                            error=translate(get_locale(request), "Nothing was changed"))
    return render(request, "course_edit_diff.html", course=course, changes=changes, version=version,
                  document=json.dumps(changed, ensure_ascii=False, default=str), code=None,
                  back=f"/staff/courses/{slug}/edit/course")
