"""Shared fixtures: both stacks (embedded and PostgreSQL + Redis), an app client, users."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support import sandbox
from tests.support.stacks import (
    PROJECT_ROOT,
    Stack,
    delete_prefixed,
    drop_postgres_database,
    make_postgres_stack,
    make_sqlite_stack,
)

DEMO_COURSE = PROJECT_ROOT / "courses" / "dl-bootcamp.yaml"


@pytest.fixture(scope="session", autouse=True)
def _own_sandbox_slots() -> Iterator[None]:
    """Sandboxes run by this test session use its own uid range and cgroup name."""
    from grader.sandbox import configure

    configure(sandbox.config())
    yield
    sandbox.remove_cgroup_dirs()


@pytest.fixture(scope="session")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = make_sqlite_stack(tmp_path_factory.mktemp("stacks"))
    assert stack.camp("course", "load", str(DEMO_COURSE)).returncode == 0
    yield stack
    stack.stop_workers()


@pytest.fixture(scope="session")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack, db_name = make_postgres_stack(tmp_path_factory.mktemp("stacks"))
    assert stack.camp("course", "load", str(DEMO_COURSE)).returncode == 0
    yield stack
    stack.stop_workers()
    drop_postgres_database(db_name)
    delete_prefixed(stack.env["CAMP_BROKER_KEY_PREFIX"])


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Run the test once per stack, with this process pointed at it."""
    chosen: Stack = request.getfixturevalue(f"{'pg' if request.param == 'postgres' else 'sqlite'}_stack")
    with chosen.active():
        yield chosen


@pytest.fixture
def embedded(sqlite_stack: Stack) -> Iterator[Stack]:
    with sqlite_stack.active():
        yield sqlite_stack


def make_client() -> TestClient:
    from app.main import create_app

    return TestClient(create_app(), base_url="http://testserver")


@pytest.fixture
def client(stack: Stack) -> Iterator[TestClient]:
    with make_client() as c:
        yield c


@pytest.fixture
def embedded_client(embedded: Stack) -> Iterator[TestClient]:
    with make_client() as c:
        yield c


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path}"
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
    name = unique_name(role[:3])
    result = stack.camp("user", "add", name, "--role", role, stdin=password + "\n")
    assert result.returncode == 0, result.stderr
    return name


def api_token(stack: Stack, name: str) -> str:
    result = stack.camp("token", "create", name)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
