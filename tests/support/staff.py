"""Logging in as staff in tests, posting forms with the session's CSRF token, and the staff
actions several tests take (uploading a course file, committing a draw)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from tests.support.stacks import Stack
from tests.support.web import add_user, csrf_of


def log_in(client: TestClient, name: str, password: str = "correct horse") -> None:
    token = csrf_of(client, "/login")
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def staff_client(client: TestClient, stack: Stack, role: str = "instructor") -> str:
    name = add_user(stack, role)
    log_in(client, name)
    return name


def post_form(client: TestClient, path: str, data: dict[str, str], token_from: str, **kw: object) -> Response:
    return client.post(path, data={**data, "csrf_token": csrf_of(client, token_from)}, follow_redirects=False,
                       **kw)  # type: ignore[arg-type]


def user_id(name: str) -> int:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import User

    with session_scope() as session:
        found = session.scalar(select(User.id).where(User.name == name))
    assert found is not None
    return found


def upload_course(client: TestClient, content: bytes, name: str = "course.yaml") -> Response:
    """Send a course file through the admin upload form."""
    return post_form(client, "/admin/courses", {}, "/admin/courses",
                     files={"file": (name, content, "application/x-yaml")})


def commit_draw(slug: str, actor: str, code: str = "1-1") -> int:
    """Commit a draw of the homework's first reward rule as `actor`; its id."""
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import User
    from app.services import draws
    from app.services.courses import get_assignment

    with session_scope() as session:
        user = session.scalar(select(User).where(User.name == actor))
        assert user is not None
        return draws.commit_draw(session, get_assignment(session, slug, code), user, rule_index=0).id
