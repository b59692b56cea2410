"""Fixtures for the fault tests: each test gets a PostgreSQL + Redis stack of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.faults.kit import FaultStack, fault_stack

MakeStack = Callable[..., FaultStack]


@pytest.fixture
def make_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., object]]:
    """`with make_stack(CAMP_X="1") as fs:` a fresh stack with those settings."""

    @contextmanager
    def make(**settings: str) -> Iterator[FaultStack]:
        with fault_stack(tmp_path_factory.mktemp("fault"), **settings) as fs, fs.stack.active():
            yield fs

    return make  # type: ignore[return-value]
