"""Talking to Camp as its users do: an in-process client, accounts, CSRF tokens, API tokens."""

from __future__ import annotations

import re
import secrets
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.stacks import Stack

if TYPE_CHECKING:
    from app.config import Settings


def make_client() -> TestClient:
    """A TestClient with cookies of its own, on the app for the settings active in this process."""
    return TestClient(shared_app(), base_url="http://testserver")


def shared_app(settings: Settings | None = None) -> FastAPI:
    """The app for these settings (default: the current ones), built once and shared by the
    tests' clients: a fresh app builds every route's dependencies again on first use, a quarter
    of a second of CPU per test. Other settings get an app of their own."""
    from app.config import get_settings
    from app.main import create_app

    chosen = settings or get_settings()
    key = chosen.model_dump_json()
    if key not in _APPS:
        _APPS[key] = create_app(chosen)
    return _APPS[key]


_APPS: dict[str, FastAPI] = {}


def app_client(address: str = "testclient", **settings: object) -> TestClient:
    """A client from `address` on the app for the current settings changed by `settings`
    (e.g. `login_lock_failures=3`)."""
    from app.config import get_settings

    return TestClient(shared_app(get_settings().model_copy(update=settings)), client=(address, 50000))


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def csrf_of(client: TestClient, path: str = "/login") -> str:
    return csrf_in(client.get(path).text, path)


def csrf_in(page: str, where: str = "the page") -> str:
    """The (first) CSRF token of a rendered page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {where}"
    return match.group(1)


def register(client: TestClient, name: str | None = None, password: str = "correct horse") -> str:
    name = name or unique_name()
    token = csrf_of(client, "/register")
    response = client.post(
        "/register",
        data={"name": name, "password": password, "password2": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return name


def add_user(stack: Stack, role: str = "student", password: str = "correct horse") -> str:
    """An account made by the same service `camp user add` calls, in this process: a second
    interpreter per account cost seconds per test (the command itself is tested in test_accounts)."""
    from app.db import session_scope
    from app.models import Role
    from app.services.accounts import add_user as create
    from app.services.accounts import record_creation

    name = unique_name(role[:3])
    with _pointed_at(stack), session_scope() as session:
        record_creation(session, create(session, name, password, Role(role)), None, via="cli")
    return name


def api_token(stack: Stack, name: str) -> str:
    """A token made as `camp token create NAME` makes it, in this process."""
    from app.db import session_scope
    from app.services.accounts import create_token, get_user_by_name

    with _pointed_at(stack), session_scope() as session:
        return create_token(session, get_user_by_name(session, name), "cli")


def _pointed_at(stack: Stack) -> AbstractContextManager[None]:
    return nullcontext() if stack.is_active() else stack.active()
