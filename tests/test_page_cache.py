"""Cached pages and boards are exactly as fresh as the database, on both stacks."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.support.homework import Reply, add_replies, make_course, make_users, now, own_queue
from tests.support.web import register


def _set_submission(submission_id: int, **values: object) -> None:
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == submission_id).values(**values))


def test_anonymous_homework_page_shows_a_new_reply_and_verdict_at_once(client: TestClient) -> None:
    from app.web.page_cache import PAGES

    slug = make_course({"code": "1-1"})
    own_queue(slug)  # the queued row stays queued: no worker of another test serves this queue
    [author] = make_users(1)
    [first] = add_replies(slug, "1-1", [Reply(author, status="queued", score=None)])
    url = f"/courses/{slug}/assignments/1-1"
    assert "作业1-1：0" in client.get(url).text
    hits = PAGES.hits
    for _ in range(10):  # on PostgreSQL any commit in the cluster (other tests too) is a change
        assert client.get(url).text.count('class="reply') == 1
    assert PAGES.hits > hits  # later readings came from the cache

    add_replies(slug, "1-1", [Reply(author)])
    page = client.get(url).text
    assert 'id="floor-2"' in page and "(2)" in page

    _set_submission(first, status="scored", verdict="accepted", score=0.5)
    page = client.get(url).text
    assert page.count("已评测") == 2 and "0.5" in page


def test_logged_in_readers_are_never_served_the_anonymous_page(client: TestClient) -> None:
    slug = make_course({"code": "1-1"})
    url = f"/courses/{slug}/assignments/1-1"
    client.get(url)
    client.get(url)
    name = register(client)
    page = client.get(url).text
    assert name in page and 'name="csrf_token"' in page


def test_language_and_page_number_are_part_of_the_key(client: TestClient) -> None:
    slug = make_course({"code": "1-1"})
    url = f"/courses/{slug}/assignments/1-1"
    assert '<html lang="zh-CN">' in client.get(url).text
    client.cookies.set("camp_lang", "en")
    assert '<html lang="en">' in client.get(url).text
    client.cookies.delete("camp_lang")
    assert '<html lang="zh-CN">' in client.get(url).text
    assert client.get(url + "?page=abc").status_code == 422


def test_anonymous_leaderboard_json_follows_new_scores(client: TestClient) -> None:
    slug = make_course({"code": "6-2", "grading": {"kind": "mnist"}})
    a, b = make_users(2)
    add_replies(slug, "6-2", [Reply(a, score=0.9)])
    url = f"/api/v1/courses/{slug}/assignments/6-2/leaderboard"
    assert client.get(url).json()["total"] == 1
    assert client.get(url).json()["total"] == 1
    [second] = add_replies(slug, "6-2", [Reply(b, score=0.95)])
    board = client.get(url).json()
    assert board["total"] == 2 and board["rows"][0]["score"] == 0.95
    _set_submission(second, hidden=True)
    assert client.get(url).json()["total"] == 1


def test_a_passing_deadline_ends_a_cached_entry(embedded: object) -> None:
    from app.services.page_cache import VersionedCache, database_version, next_boundary

    cache = VersionedCache(max_entries=2)
    version = database_version()
    assert version is not None
    cache.put("k", version, b"before", valid_until=now() - timedelta(seconds=1))
    assert cache.get("k", version) is None
    cache.put("k", version, b"ok", valid_until=now() + timedelta(hours=1))
    assert cache.get("k", version) == b"ok"
    assert cache.get("k", version + "x") is None
    cache.put("a", version, 1)
    cache.put("b", version, 2)
    assert cache.get("k", version) is None  # the oldest entry made room
    moment = now()
    assert next_boundary(moment, moment - timedelta(1), moment + timedelta(2), None) == moment + timedelta(2)
    assert next_boundary(moment, moment - timedelta(1)) is None
    # computed right at the deadline (not yet late): kept until that very moment, so never served
    assert next_boundary(moment, moment, moment + timedelta(2)) == moment


def test_every_content_table_moves_the_page_version(stack: object) -> None:
    """A new table must get the trigger (see migration 0006_page_versions) or be listed as
    untracked in app.models.page_versions; otherwise its changes would not refresh pages."""
    import importlib.util

    from sqlalchemy import text

    from app.db import session_scope
    from app.models import Base
    from app.models.page_versions import UNTRACKED_TABLES
    from tests.support.stacks import PROJECT_ROOT

    path = PROJECT_ROOT / "migrations/versions/2026_11_28_0300_page_versions.py"
    spec = importlib.util.spec_from_file_location("page_versions_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert set(migration.UNTRACKED) == UNTRACKED_TABLES | {"alembic_version"}
    with session_scope() as session:
        if session.get_bind().dialect.name != "postgresql":
            return  # SQLite reads PRAGMA data_version: every commit counts
        triggered = set(session.scalars(text(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'camp_page_version'")))
    missing = sorted(set(Base.metadata.tables) - UNTRACKED_TABLES - triggered)
    assert not missing, f"tables without the page-version trigger: {missing}"


def test_token_use_and_heartbeats_leave_the_version_alone(client: TestClient, stack: object) -> None:
    from app.db import session_scope
    from app.models import ApiToken, Submission
    from app.services.page_cache import database_version

    slug = make_course({"code": "1-1"})
    [author] = make_users(1)
    [reply] = add_replies(slug, "1-1", [Reply(author)])
    with session_scope() as session:
        session.add(ApiToken(user_id=author, label="t", token_hash=f"h{reply}"))
    before = database_version()
    with session_scope() as session:
        session.execute(update(ApiToken).where(ApiToken.user_id == author).values(last_used_at=now()))
    if "sqlite" not in (before or ""):
        assert database_version() == before
    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == reply).values(score=0.25))
    assert database_version() != before
