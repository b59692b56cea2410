"""The worker's warm-pool settings (worker/warm_pool.py): read from CAMP_WARM_POOL_*, checked."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings, get_settings
from grader.sandbox import warm
from worker import warm_pool


def test_defaults_keep_two_paddle_sandboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SIZE", "IMPORTS", "MEMORY_MB", "WAIT_SECONDS"):
        monkeypatch.delenv(f"CAMP_WARM_POOL_{name}", raising=False)
    get_settings.cache_clear()
    try:
        settings = warm_pool.settings()
    finally:
        get_settings.cache_clear()
    assert settings == warm.WarmSettings(size=2, imports=("numpy", "paddle"), memory_bytes=0,
                                         warmup_seconds=120.0, wait_seconds=10.0)


def test_environment_sets_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMP_WARM_POOL_SIZE", "3")
    monkeypatch.setenv("CAMP_WARM_POOL_IMPORTS", "numpy, scipy.special ,")
    monkeypatch.setenv("CAMP_WARM_POOL_MEMORY_MB", "1024")
    monkeypatch.setenv("CAMP_WARM_POOL_WAIT_SECONDS", "0")
    get_settings.cache_clear()
    try:
        settings = warm_pool.settings()
    finally:
        get_settings.cache_clear()
    assert settings.size == 3 and settings.imports == ("numpy", "scipy.special")
    assert settings.memory_bytes == 1024 * 1024**2 and settings.wait_seconds == 0


@pytest.mark.parametrize("imports", ["numpy;import os", "numpy os", "../x"])
def test_imports_are_module_names_only(imports: str) -> None:
    with pytest.raises(ValidationError):
        Settings(warm_pool_imports=imports)


@pytest.mark.parametrize("imports", [("numpy", "1x"), ("numpy", "a..b")])
def test_warm_settings_refuse_what_is_not_a_module(imports: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="not a module name"):
        warm.WarmSettings(imports=imports)


def test_only_workers_of_code_queues_keep_a_pool() -> None:
    assert warm_pool.grades_code("gpu") and warm_pool.grades_code("cpu,gpu")
    assert not warm_pool.grades_code("cpu")
    assert warm_pool.grades_code(None)  # unknown (outside a Celery worker): the caller asked for it


def test_size_zero_starts_nothing() -> None:
    from grader.limits import Limits
    from grader.sandbox import configured

    assert warm.start(warm.WarmSettings(size=0), Limits(), configured()) is None
