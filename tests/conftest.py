"""Shared fixtures: both stacks (embedded and PostgreSQL + Redis), an app client, and the
markers every test gets from where it lives and what it uses (helpers live in tests/support/).

Markers are applied here, not by hand, so a new test is marked the moment it asks for a stack:
`sqlite`, `postgres`, `redis` follow the fixtures; `browser` and `faults` follow the folder.
`slow` follows the `live` fixture: a test that starts a server process of its own pays seconds
for it. Tests are marked `slow` by hand when they start another real process of their own (a
worker, `camp serve`, a fuzzer), replay attacks on the real sandbox, or take more than about two
seconds for their own reasons. `make test-fast` leaves out the browser, the faults, the slow tests
and the PostgreSQL copy of every test that runs on both stacks (`--one-stack`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support import sandbox
from tests.support.live import Live, live_server
from tests.support.stacks import (
    DEMO_COURSE,
    Stack,
    delete_prefixed,
    drop_postgres_database,
    make_postgres_stack,
    make_sqlite_stack,
)
from tests.support.web import make_client

# Marks by folder (the first part under tests/), then by fixture in the test's closure.
FOLDER_MARKS = {"browser": ("browser",), "faults": ("faults", "postgres", "redis")}
FIXTURE_MARKS = {"sqlite_stack": ("sqlite",), "pg_stack": ("postgres", "redis"), "live": ("slow",)}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--one-stack", action="store_true",
                     help="run the tests written for both stacks on the embedded one only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name in marks_for(item):
            item.add_marker(name)
    if config.getoption("--one-stack"):
        copies = [item for item in items if stack_param(item) == "postgres"]
        if copies:
            config.hook.pytest_deselected(items=copies)
            items[:] = [item for item in items if stack_param(item) != "postgres"]


def marks_for(item: pytest.Item) -> set[str]:
    parts = item.path.relative_to(item.config.rootpath / "tests").parts
    names = set(FOLDER_MARKS.get(parts[0], ())) if len(parts) > 1 else set()
    for fixture in getattr(item, "fixturenames", ()):
        names.update(FIXTURE_MARKS.get(fixture, ()))
    return names


def stack_param(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("stack") if callspec else None


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
    stack.stop_workers(graceful=False)  # the stack is thrown away: no need to wait for a warm shutdown


@pytest.fixture(scope="session")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack, db_name = make_postgres_stack(tmp_path_factory.mktemp("stacks"))
    assert stack.camp("course", "load", str(DEMO_COURSE)).returncode == 0
    yield stack
    stack.stop_workers(graceful=False)  # the stack is thrown away: no need to wait for a warm shutdown
    drop_postgres_database(db_name)
    delete_prefixed(stack.env["CAMP_BROKER_KEY_PREFIX"])


@pytest.fixture(params=[
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.redis]),
])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Run the test once per stack, with this process pointed at it."""
    chosen: Stack = request.getfixturevalue(f"{'pg' if request.param == 'postgres' else 'sqlite'}_stack")
    with chosen.active():
        yield chosen


@pytest.fixture
def running_worker(stack: Stack) -> Stack:
    """The stack with a real `camp worker` process serving `cpu` and `gpu`: started by the first
    test that asks, then shared by every later one in this test process."""
    if not any(p.poll() is None for p in stack.workers):
        stack.start_worker()
    return stack


@pytest.fixture(scope="session")
def live() -> Live:
    """`live(stack, **settings)` starts a real `camp serve` process for one test (a `with`
    block gives its URL); asking for it marks the test `slow`."""
    return live_server


@pytest.fixture
def embedded(sqlite_stack: Stack) -> Iterator[Stack]:
    with sqlite_stack.active():
        yield sqlite_stack


@pytest.fixture
def client(stack: Stack) -> Iterator[TestClient]:
    with make_client() as c:
        yield c


@pytest.fixture
def embedded_client(embedded: Stack) -> Iterator[TestClient]:
    with make_client() as c:
        yield c
