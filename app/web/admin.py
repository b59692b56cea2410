"""Admin pages: users and roles, loading a course file, reward rules, the audit log."""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app import paging
from app.deps import AdminUser, CsrfChecked, SessionDep, committed_in_thread, get_locale
from app.draws import DrawError
from app.errors import CampError, Forbidden, NotFound
from app.i18n import translate
from app.models import Role, User
from app.services import audit
from app.services import draws as draw_service
from app.services.accounts import reset_password_by_admin, search_users, set_active, set_role
from app.services.audit import verify_chain
from app.services.course_load import load_file
from app.services.course_upload import CourseFileError, parse_course_bytes
from app.services.courses import list_courses
from app.services.entries import parse_reward
from app.templating import render
from app.web.draws import describe_rule
from app.web.forms import error_text
from app.web.navigation import redirect

router = APIRouter(prefix="/admin")
ROLES = tuple(r.value for r in Role)


@router.get("")
def admin_home(request: Request, admin: AdminUser) -> Response:
    return render(request, "admin_home.html")


# --- users and roles ------------------------------------------------------------------------


def _users_page(request: Request, session: Session, q: str = "", role: str = "", page: int = 1,
                changed: str = "", error: str | None = None, status_code: int = 200,
                new_password: tuple[str, str] | None = None) -> Response:
    users, total = search_users(session, q.strip(), role if role in ROLES else None,
                                *paging.window(page, paging.TABLE_PAGE))
    return render(
        request, "admin_users.html", status_code, users=users, total=total, q=q, role=role, page=page,
        pages=paging.page_count(total, paging.TABLE_PAGE), roles=ROLES, changed=changed, error=error,
        new_password=new_password,
        page_url=lambda p: "/admin/users?" + urlencode({k: v for k, v in
                                                       {"q": q, "role": role, "page": p}.items() if v}),
    )


Short = Annotated[str, Query(max_length=64)]


@router.get("/users")
def users_page(request: Request, session: SessionDep, admin: AdminUser, q: Short = "", role: Short = "",
               page: Annotated[int, Query(ge=1)] = 1, changed: Short = "") -> Response:
    return _users_page(request, session, q, role, page, changed)


@router.post("/users/{user_id}/role", dependencies=[CsrfChecked])
def change_role_form(user_id: int, request: Request, session: SessionDep, admin: AdminUser,
                     role: Annotated[str, Form()], q: Annotated[str, Form()] = "") -> Response:
    try:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("No user {id}", id=user_id)
        if user.id == admin.id:
            raise Forbidden("You cannot change your own role; ask another admin")
        if role not in ROLES:
            raise NotFound("No role {role}", role=role)
        set_role(session, user, Role(role), admin)
    except CampError as exc:
        session.rollback()
        return _users_page(request, session, q, error=error_text(request, exc), status_code=exc.status_code)
    params = {"q": q, "changed": user.name}
    return redirect("/admin/users?" + urlencode({k: v for k, v in params.items() if v}))


def _other_user(session: Session, user_id: int, admin: User) -> User:
    user = session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise NotFound("No user {id}", id=user_id)
    if user.id == admin.id:
        raise Forbidden("You cannot change your own role; ask another admin")
    return user


@router.post("/users/{user_id}/active", dependencies=[CsrfChecked])
def change_active_form(user_id: int, request: Request, session: SessionDep, admin: AdminUser,
                       active: Annotated[str, Form(max_length=1)], q: Annotated[str, Form(max_length=64)] = ""
                       ) -> Response:
    """Disable an account (its sessions end at once, its tokens stop working) or enable it."""
    try:
        user = _other_user(session, user_id, admin)
        set_active(session, user, active == "1", admin)
    except CampError as exc:
        session.rollback()
        return _users_page(request, session, q, error=error_text(request, exc), status_code=exc.status_code)
    return redirect("/admin/users?" + urlencode({k: v for k, v in {"q": q}.items() if v}))


@router.post("/users/{user_id}/password", dependencies=[CsrfChecked])
def reset_password_form(user_id: int, request: Request, session: SessionDep, admin: AdminUser,
                        q: Annotated[str, Form(max_length=64)] = "") -> Response:
    """A new random password, shown once on the answer; the account's sessions end."""
    try:
        user = _other_user(session, user_id, admin)
        password = reset_password_by_admin(session, user, admin)
    except CampError as exc:
        session.rollback()
        return _users_page(request, session, q, error=error_text(request, exc), status_code=exc.status_code)
    response = _users_page(request, session, q, new_password=(user.name, password))
    response.headers["cache-control"] = "no-store"
    return response


# --- courses --------------------------------------------------------------------------------


def _courses_page(request: Request, session: Session, loaded: str = "", error: str | None = None,
                  problems: list[Any] | None = None, status_code: int = 200) -> Response:
    return render(request, "admin_courses.html", status_code, courses=list_courses(session),
                  loaded=loaded, error=error, problems=problems or [])


@router.get("/courses")
def courses_page(request: Request, session: SessionDep, admin: AdminUser, loaded: Short = "") -> Response:
    return _courses_page(request, session, loaded)


@router.post("/courses", dependencies=[CsrfChecked])
async def upload_course(request: Request, session: SessionDep, admin: AdminUser,
                        file: Annotated[UploadFile | None, Form()] = None) -> Response:
    locale = get_locale(request)
    data = await file.read() if file is not None else b""
    if not data:
        return await run_in_threadpool(partial(_courses_page, request, session, status_code=422,
                                               error=translate(locale, "Choose a course file (.yaml) first")))
    try:
        # parsing, the database work and its commit in the thread pool (app/deps.py)
        course = await committed_in_thread(session, lambda: load_file(session, parse_course_bytes(data),
                                                                      admin, "upload"))
    except CourseFileError as exc:
        return await run_in_threadpool(partial(_courses_page, request, session, problems=exc.problems,
                                               error=translate(locale, exc.summary), status_code=422))
    except CampError as exc:
        return await run_in_threadpool(partial(_courses_page, request, session,
                                               error=error_text(request, exc), status_code=exc.status_code))
    return redirect(f"/admin/courses?loaded={course.slug}")


# --- reward rules ---------------------------------------------------------------------------


def _rules(rules: list[dict[str, Any]], locale: str) -> list[tuple[dict[str, Any], str, str | None]]:
    """Each rule as (data, description, problem) — a rule the draws cannot run says why."""
    out = []
    for data in rules:
        try:
            described, problem = describe_rule(parse_reward(data).rule.to_json(), locale), None
        except DrawError as exc:
            described, problem = str(data.get("kind", "?")), exc.message(locale)
        out.append((data, described, problem))
    return out


@router.get("/rewards")
def rewards_page(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    locale = get_locale(request)
    draws = draw_service.status_counts(session)
    return render(request, "admin_rewards.html", courses=list_courses(session), draws=draws,
                  rules_of=lambda a: _rules(a.reward_rules or [], locale),
                  draw_statuses=("committed", "frozen", "revealed", "aborted"))


# --- audit log ------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request, session: SessionDep, admin: AdminUser,
               page: Annotated[int, Query(ge=1)] = 1) -> Response:
    entries, names, total = audit.page(session, *paging.window(page, paging.TABLE_PAGE))
    return render(request, "admin_audit.html", entries=entries, names=names, total=total, page=page,
                  pages=paging.page_count(total, paging.TABLE_PAGE), broken=verify_chain(session),
                  as_json=lambda data: json.dumps(data, ensure_ascii=False, sort_keys=True))
