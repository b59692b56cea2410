from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings


def test_embedded_defaults(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.embedded
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'camp.sqlite3'}"
    assert settings.effective_broker_url.startswith("sqla+sqlite:///")
    # no built-in secret: one generated per data directory, kept for the next start, owner-only
    assert len(settings.secret_key) >= 48 and Settings(data_dir=tmp_path).secret_key == settings.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_each_data_directory_has_its_own_secret(tmp_path) -> None:
    assert Settings(data_dir=tmp_path / "a").secret_key != Settings(data_dir=tmp_path / "b").secret_key


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
