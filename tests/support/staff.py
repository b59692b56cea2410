"""Logging in as staff in tests, and posting forms with the session's CSRF token."""

from __future__ import annotations

import re

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


def csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict[str, str], token_from: str, **kw: object) -> Response:
    return client.post(path, data={**data, "csrf_token": csrf(client, token_from)}, follow_redirects=False,
                       **kw)  # type: ignore[arg-type]


def user_id(name: str) -> int:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import User

    with session_scope() as session:
        found = session.scalar(select(User.id).where(User.name == name))
    assert found is not None
    return found
