"""Attack replays through `camp course load FILE`: the operator's command line rigging a draw.

The editor and the admin upload refuse, while a draw of a homework is committed or frozen, to move
that homework's times, change how it is graded or change its drawn rule (moving the deadline
between commit and freeze decided who entered). The command line loaded any file: these replay
the same attacks through it (in this process, as the console script runs it), and the races of
a load against a draw's commit on PostgreSQL's row locks."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, text

from tests.support.homework import Reply, add_replies, make_course, now, replies_2023
from tests.support.notify import run_lottery
from tests.support.stacks import Stack
from tests.support.staff import commit_draw, user_id
from tests.support.web import add_user

RULE = {"kind": "lottery", "k": 3, "text": "抽3人"}


def _course() -> str:
    due = (now() + timedelta(days=7)).replace(second=0, microsecond=0)
    return make_course({"code": "1-1", "rewards": [dict(RULE)]}, opens=due - timedelta(days=14), due=due)


def _homework(slug: str) -> dict[str, Any]:
    """What a draw depends on, and the title, as stored."""
    from app.db import session_scope
    from app.services.courses import get_assignment

    with session_scope() as session:
        found = get_assignment(session, slug, "1-1")
        return {"opens": found.opens_at.isoformat(), "due": found.due_at.isoformat(),
                "grading": [found.grading_kind, found.grading_config], "rules": found.reward_rules,
                "zone": found.course.timezone, "title": found.title}


def _exported(stack: Stack, slug: str) -> dict[str, Any]:
    result = stack.camp("course", "export", slug)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = yaml.safe_load(result.stdout)
    return document


def _load(stack: Stack, tmp_path: Path, document: dict[str, Any]) -> Any:
    path = tmp_path / f"course-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return stack.camp("course", "load", str(path))


def _earlier(value: Any, days: int = 1) -> str:
    return (datetime.fromisoformat(str(value)) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _loads(stack: Stack) -> list[dict[str, Any]]:
    from app.db import session_scope
    from app.models import AuditEntry

    with session_scope() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "course.load")
                               .order_by(AuditEntry.id))
        return [dict(row.data, actor=row.actor_id, subject=row.subject) for row in rows]


def test_the_command_line_cannot_change_what_a_committed_draw_depends_on(stack: Stack, tmp_path: Path) -> None:
    admin = add_user(stack, "admin")
    slug = _course()
    original = _exported(stack, slug)
    draw_id = commit_draw(slug, admin)
    before = _homework(slug)
    audited = len(_loads(stack))

    # each attack alone: refused, every refused field named with the draw, nothing written
    attacks: dict[str, Any] = {
        "due": lambda h, d: h.update(due=_earlier(h["due"])),
        "opens": lambda h, d: h.update(opens=_earlier(h["opens"])),
        "grading": lambda h, d: h.update(grading={"kind": "reply_format", "review": True}),
        "late_policy": lambda h, d: h.update(late_policy="refuse"),
        "reply_format": lambda h, d: h.update(reply_format="作业1-1 答案：XXX"),
        "rewards[0]": lambda h, d: h.update(rewards=[{"kind": "lottery", "k": 30, "text": "抽30人"}]),
        # a rule slid in front of the drawn one: rule 0 would be a fresh, undrawn lottery
        "rewards[0] ": lambda h, d: h.update(rewards=[{"kind": "lottery", "k": 1, "text": "抽1人"}, dict(RULE)]),
        # the course's zone moves every time written without one
        "due  ": lambda h, d: d.update(timezone="Asia/Shanghai"),
        # and, with every time given with its offset, still `likes_close` and the daily limit's days
        "timezone": lambda h, d: (d.update(timezone="Asia/Shanghai"),
                                  h.update(opens=f"{h['opens']}+00:00", due=f"{h['due']}+00:00")),
    }
    for field, attack in attacks.items():
        document = yaml.safe_load(yaml.safe_dump(original))
        attack(document["assignments"][0], document)
        result = _load(stack, tmp_path, document)
        assert result.returncode != 0, field
        where = "timezone" if field == "timezone" else f"assignments[0] (1-1).{field.strip()}"
        assert f"{where}: Draw #{draw_id}" in result.stderr \
            or f"{where}: Reward rule 0 of homework 1-1 has draw #{draw_id}" in result.stderr, (field, result.stderr)
        assert "nothing was loaded" in result.stderr
        assert _homework(slug) == before, field

    # all at once: each refused field on a line of its own
    document = yaml.safe_load(yaml.safe_dump(original))
    homework = document["assignments"][0]
    homework.update(due=_earlier(homework["due"]), grading={"kind": "reply_format", "review": True},
                    rewards=[{"kind": "lottery", "k": 1, "text": "抽1人"}], title="新标题")
    result = _load(stack, tmp_path, document)
    assert result.returncode != 0
    refused = [line.split(":")[0].strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert refused == ["assignments[0] (1-1).due", "assignments[0] (1-1).grading",
                       "assignments[0] (1-1).rewards[0]"], result.stderr
    assert _homework(slug) == before and len(_loads(stack)) == audited

    # what does not decide the draw still loads, audited with what it changed
    document = yaml.safe_load(yaml.safe_dump(original))
    document["description"] = "新的课程简介"
    document["assignments"][0]["title"] = "新标题"
    document["assignments"][0]["rewards"].append({"kind": "lottery", "k": 1, "text": "再抽1人"})
    result = _load(stack, tmp_path, document)
    assert result.returncode == 0, result.stderr
    after = _homework(slug)
    assert after["title"] == "新标题" and after["due"] == before["due"]
    assert after["rules"] == [RULE, {"kind": "lottery", "k": 1, "text": "再抽1人"}]
    entry = _loads(stack)[-1]
    assert entry["via"] == "cli" and entry["actor"] is None and entry["subject"] == f"course:{slug}"
    assert {c["path"] for c in entry["changes"]} == {
        "description", "assignments[1-1].title", "assignments[1-1].rewards[1].kind",
        "assignments[1-1].rewards[1].k", "assignments[1-1].rewards[1].text"}


def test_after_the_reveal_the_command_line_may_move_times_but_not_the_drawn_rule(
        stack: Stack, tmp_path: Path) -> None:
    slug = _course()
    add_replies(slug, "1-1", replies_2023([Reply(user_id(add_user(stack)))]))
    original = _exported(stack, slug)
    draw_id = run_lottery(stack, slug, "1-1")

    document = yaml.safe_load(yaml.safe_dump(original))
    document["assignments"][0]["rewards"] = [{"kind": "lottery", "k": 30, "text": "抽30人"}]
    refused = _load(stack, tmp_path, document)
    assert refused.returncode != 0
    assert f"assignments[0] (1-1).rewards[0]: Reward rule 0 of homework 1-1 has draw #{draw_id}" in refused.stderr

    document = yaml.safe_load(yaml.safe_dump(original))
    moved = _earlier(document["assignments"][0]["due"])
    document["assignments"][0].update(due=moved, grading={"kind": "reply_format", "review": True})
    result = _load(stack, tmp_path, document)
    assert result.returncode == 0, result.stderr
    assert _homework(slug)["due"].startswith(moved)


# --- races on PostgreSQL: a load and a draw's commit take turns (app/services/course_lock.py) ---


@pytest.fixture
def postgres(pg_stack: Stack) -> Any:
    with pg_stack.active():
        yield pg_stack


def _wait_for_a_lock_wait() -> None:
    """Until another transaction of this database waits for a lock (bounded: it may never)."""
    from app.db import get_engine

    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")
    for _ in range(600):
        with get_engine().connect() as connection:
            if connection.scalar(query):
                return
        time.sleep(0.05)
    raise AssertionError("nobody waited for a lock")


def _in_thread(work: Any) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _load_in_session(spec: Any) -> Any:
    from app.db import session_scope
    from app.services.course_load import load_file

    with session_scope() as session:
        return load_file(session, spec, None, "cli").slug


def _moved_spec(slug: str, document: dict[str, Any]) -> Any:
    from app.services.course_check import check_course

    document = yaml.safe_load(yaml.safe_dump(document))
    document["assignments"][0]["due"] = _earlier(document["assignments"][0]["due"])
    return check_course(document, "UTC")


def test_a_load_racing_a_draws_commit_waits_for_it_and_is_refused(postgres: Stack) -> None:
    from app.db import get_sessionmaker
    from app.models import User
    from app.services import draws
    from app.services.course_check import CourseFileError
    from app.services.courses import get_assignment

    admin = add_user(postgres, "admin")
    slug = _course()
    spec = _moved_spec(slug, _exported(postgres, slug))
    before = _homework(slug)
    with get_sessionmaker()() as committing:
        user = committing.scalar(select(User).where(User.name == admin))
        assert user is not None
        draw = draws.commit_draw(committing, get_assignment(committing, slug, "1-1"), user, rule_index=0)
        thread, outcome = _in_thread(lambda: _load_in_session(spec))
        _wait_for_a_lock_wait()  # the load checks no draws before the commit is visible
        committing.commit()
        thread.join(60)
    assert isinstance(outcome[0], CourseFileError), outcome
    assert [p.where for p in outcome[0].problems] == ["assignments[0] (1-1).due"]
    assert f"#{draw.id}" in outcome[0].problems[0].message
    assert _homework(slug) == before


def test_a_draws_commit_racing_a_load_publishes_the_loaded_deadline(postgres: Stack) -> None:
    from app.db import get_sessionmaker, session_scope
    from app.models import Draw, User
    from app.services import draws
    from app.services.course_load import load_file
    from app.services.courses import get_assignment

    admin = add_user(postgres, "admin")
    slug = _course()
    spec = _moved_spec(slug, _exported(postgres, slug))
    before = _homework(slug)

    def commit() -> int:
        with session_scope() as session:
            user = session.scalar(select(User).where(User.name == admin))
            assert user is not None
            return draws.commit_draw(session, get_assignment(session, slug, "1-1"), user, rule_index=0).id

    with get_sessionmaker()() as loading:
        load_file(loading, spec, None, "cli")
        thread, outcome = _in_thread(commit)
        _wait_for_a_lock_wait()  # the commit read the homework before the load's change was visible
        loading.commit()
        thread.join(60)
    assert isinstance(outcome[0], int), outcome
    with session_scope() as session:
        draw = session.get(Draw, outcome[0])
        assert draw is not None
        assert draw.deadline == get_assignment(session, slug, "1-1").due_at
    assert _homework(slug)["due"] != before["due"]


def test_an_upload_cannot_move_a_running_draws_course_to_another_zone(embedded_client: Any,
                                                                      embedded: Stack) -> None:
    """Every time with its offset: nothing moves but the zone, which still places `likes_close`."""
    from tests.support.staff import staff_client, upload_course

    admin = staff_client(embedded_client, embedded, "admin")
    slug = _course()
    document = _exported(embedded, slug)
    draw_id = commit_draw(slug, admin)
    before = _homework(slug)
    homework = document["assignments"][0]
    homework.update(opens=f"{homework['opens']}+00:00", due=f"{homework['due']}+00:00")
    document["timezone"] = "Asia/Shanghai"
    refused = upload_course(embedded_client, yaml.safe_dump(document, allow_unicode=True).encode(), "c.yaml")
    assert refused.status_code == 422, refused.text[:800]
    assert "timezone" in refused.text and f"#{draw_id}" in refused.text
    assert _homework(slug) == before
