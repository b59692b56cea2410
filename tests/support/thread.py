"""Set-up for the homework-thread tests: courses in a chosen time zone with exact opens/due
times, accounts that can use the API, and images with metadata to strip."""

from __future__ import annotations

import io
import secrets
from datetime import datetime
from typing import Any

from PIL import Image

from tests.support.stacks import Stack
from tests.support.web import add_user, api_token, make_client

SHANGHAI = "Asia/Shanghai"


def make_course(*assignments: dict[str, Any], timezone: str = SHANGHAI) -> str:
    """A course with a unique slug; each assignment dict is a course-file entry and must give
    `code`, `opens` and `due` (aware datetimes or strings in the course's zone)."""
    from app.db import session_scope
    from app.services.courses import CourseSpec, load_course

    slug = f"th-{secrets.token_hex(4)}"
    items = [{"title": f"homework {a['code']}", **a} for a in assignments]
    with session_scope() as session:
        load_course(session, CourseSpec.model_validate(
            {"slug": slug, "title": "thread test course", "timezone": timezone, "assignments": items}))
    return slug


def account(stack: Stack, role: str = "student") -> tuple[str, dict[str, str]]:
    name = add_user(stack, role)
    return name, {"Authorization": f"Bearer {api_token(stack, name)}"}


def user_id(name: str) -> int:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import User

    with session_scope() as session:
        found = session.scalar(select(User.id).where(User.name == name))
    assert found is not None
    return found


def png_with_gps(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30),
                 fmt: str = "PNG") -> bytes:
    """An image whose EXIF carries a camera name and a GPS position (Beijing)."""
    exif = Image.Exif()
    exif[0x010F] = "CampTestCamera"
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 20.0), 3: "E", 4: (116.0, 23.0, 29.0)}
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def at(text: str) -> datetime:
    """`2020-01-13 12:00` in Asia/Shanghai, as an aware datetime."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(SHANGHAI))


def insert_students(n: int, prefix: str = "liker") -> list[int]:
    """`n` student accounts inserted in one statement (no password: they use API tokens)."""
    from sqlalchemy import insert, select

    from app.db import session_scope
    from app.models import User, utcnow

    tag = secrets.token_hex(3)
    names = [f"{prefix}{tag}_{i}" for i in range(n)]
    with session_scope() as session:
        session.execute(insert(User), [{"name": name, "password_hash": "!", "role": "student",
                                        "is_active": True, "created_at": utcnow()} for name in names])
        ids = dict(session.execute(select(User.name, User.id).where(User.name.in_(names))).all())
    return [ids[name] for name in names]


def tokens_for(user_ids: list[int]) -> list[str]:
    from app.db import session_scope
    from app.models import User
    from app.services.accounts import create_token

    with session_scope() as session:
        return [create_token(session, session.get(User, uid)) for uid in user_ids]  # type: ignore[arg-type]


def post_as(user: int, slug: str, text: str, when: datetime, code: str | None = None) -> int:
    """A reply posted through the service at a chosen moment; returns the submission id."""
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Assignment, Course, User
    from app.services.courses import get_course
    from app.services.replies import post_reply

    with session_scope() as session:
        course = get_course(session, slug)
        default = session.scalar(select(Assignment).join(Course).where(
            Course.slug == slug, Assignment.code == code)) if code else None
        posted = post_reply(session, course, session.get(User, user), text, [],  # type: ignore[arg-type]
                            default=default, now=when)
        return next(iter(posted.submissions.values())).id


def log_in(client: object, name: str, password: str = "correct horse") -> None:
    """Log a TestClient in through the form (for pages that need a cookie session)."""
    from tests.support.web import csrf_of

    token = csrf_of(client, "/login")  # type: ignore[arg-type]
    response = client.post("/login", data={"name": name, "password": password,  # type: ignore[attr-defined]
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def audit_actions(subject: str) -> list[tuple[str, dict]]:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import AuditEntry

    with session_scope() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id))
        return [(r.action, r.data) for r in rows]


def student_client(stack: Stack) -> tuple[Any, int]:
    """A new student logged in on a client of their own: (client, account id)."""
    name = add_user(stack)
    client = make_client()
    log_in(client, name)
    return client, user_id(name)
