"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config

from tests.support.stacks import PROJECT_ROOT, Stack


def alembic_config() -> Config:
    return Config(str(PROJECT_ROOT / "alembic.ini"))


def test_models_and_migrations_agree(stack: Stack) -> None:
    command.check(alembic_config())  # raises when autogenerate would find a difference


@pytest.mark.slow  # every migration down and up again
def test_downgrade_to_base_and_back(tmp_path, monkeypatch) -> None:
    from tests.support.stacks import reset_caches

    monkeypatch.setenv("CAMP_DATA_DIR", str(tmp_path))
    for key in ("CAMP_DATABASE_URL", "CAMP_BROKER_URL"):
        monkeypatch.delenv(key, raising=False)
    reset_caches()
    try:
        config = alembic_config()
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        command.check(config)
    finally:
        from app.db import get_engine

        get_engine().dispose()
        monkeypatch.undo()
        reset_caches()
