"""Fixtures for the fault tests: each test gets a PostgreSQL + Redis stack of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from tests.faults.kit import FaultStack, fault_stack
from tests.support.homework import make_users

MakeStack = Callable[..., FaultStack]


@pytest.fixture
def make_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., object]]:
    """`with make_stack(CAMP_X="1") as fs:` a fresh stack with those settings."""

    @contextmanager
    def make(**settings: str) -> Iterator[FaultStack]:
        with fault_stack(tmp_path_factory.mktemp("fault"), **settings) as fs, fs.stack.active():
            yield fs

    return make  # type: ignore[return-value]


def student_tokens(n: int) -> list[dict[str, str]]:
    """`n` students with API tokens, in the active stack (direct inserts, no password hashing)."""
    from app.db import session_scope
    from app.models import User
    from app.services.accounts import create_token

    ids = make_users(n)
    with session_scope() as session:
        return [{"Authorization": f"Bearer {create_token(session, session.get(User, uid), 'faults')}"}
                for uid in ids]


def app_client() -> TestClient:
    from app.main import create_app

    return TestClient(create_app(), base_url="http://testserver")
