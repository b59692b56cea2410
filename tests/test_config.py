from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import DEFAULT_SECRET, Settings


def test_embedded_defaults(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.embedded
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'camp.sqlite3'}"
    assert settings.effective_broker_url.startswith("sqla+sqlite:///")
    assert settings.secret_key == DEFAULT_SECRET  # allowed only while embedded


@pytest.mark.parametrize("field", ["database_url", "broker_url"])
def test_default_secret_refused_outside_embedded_mode(field: str) -> None:
    with pytest.raises(ValidationError, match="CAMP_SECRET_KEY"):
        Settings(**{field: "postgresql+psycopg://x@localhost/db"})


def test_short_secret_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMP_DATABASE_URL", "postgresql+psycopg://x@localhost/db")
    monkeypatch.setenv("CAMP_SECRET_KEY", "short")
    with pytest.raises(ValidationError, match="32 characters"):
        Settings()


def test_settings_read_only_camp_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://ignored")
    monkeypatch.setenv("CAMP_BROKER_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("CAMP_SECRET_KEY", "k" * 40)
    settings = Settings()
    assert settings.database_url == "" and settings.broker_url.endswith("/3")
    assert not settings.embedded
