"""The demo course: every seed homework, loadable twice, with times that make it usable today."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.stacks import DEMO_COURSE, Stack

SEED_CODES = ["1-1", "1-2", "3-1", "4-1", "4-2", "5-1", "5-2", "5-3", "6-1", "6-2", "7-1", "7-2", "8", "9-1", "9-2"]


def test_demo_course_has_every_seed_homework(stack: Stack) -> None:
    from app.db import get_sessionmaker
    from app.services.courses import get_course

    with get_sessionmaker()() as session:
        course = get_course(session, "dl-bootcamp")
        assert [a.code for a in course.assignments] == SEED_CODES
        now = datetime.now(UTC)
        for a in course.assignments:
            assert a.opens_at < now < a.due_at, a.code
            assert a.reply_format.startswith(f"作业{a.code}"), a.code
            assert a.reward_rules, a.code
        by_code = {a.code: a for a in course.assignments}
        assert by_code["7-1"].grading_kind == "conv_opcount"
        assert by_code["6-2"].grading_kind == "mnist" and by_code["6-2"].queue == "gpu"
        assert by_code["1-1"].reward_rules[0]["ranks"] == "1-3,6,66+100n<=666"
        assert by_code["4-1"].reward_rules[0]["ranks"] == "2,3,23,123+100n"
        assert "卷积" in by_code["7-1"].title and "[10, 3, 224, 224]" in by_code["7-1"].body


def test_every_grading_kind_in_the_demo_exists_in_the_grader() -> None:
    import grader
    from app.services.courses import parse_course_file

    kinds = {a.grading["kind"] for a in parse_course_file(DEMO_COURSE).assignments}
    assert kinds <= set(grader.task_names())


def test_reloading_keeps_floors(stack: Stack) -> None:
    from app.db import get_sessionmaker
    from app.models import Assignment

    with get_sessionmaker()() as session:
        floors = dict(session.execute(select(Assignment.code, Assignment.next_floor)).all())
    assert stack.camp("course", "load", str(DEMO_COURSE)).returncode == 0
    with get_sessionmaker()() as session:
        assert dict(session.execute(select(Assignment.code, Assignment.next_floor)).all()) == floors


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("slug: x\n", "not valid"),
        ("slug: ok-course\ntitle: t\nassignments:\n  - {code: '1-1', title: t, opens: soon, due: +1d}\n",
         "Cannot read the time"),
        ("slug: ok-course\ntitle: t\nassignments:\n  - {code: '1-1', title: t, opens: +2d, due: +1d}\n",
         "due before it opens"),
        ("slug: ok-course\ntitle: t\nassignments:\n  - {code: 'x/../y', title: t, opens: -1d, due: +1d}\n",
         "not valid"),
        (":\n - [", "Cannot read the course file"),
    ],
)
def test_bad_course_files_are_refused_clearly(embedded: Stack, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "course.yaml"
    path.write_text(content, encoding="utf-8")
    result = embedded.camp("course", "load", str(path))
    assert result.returncode != 0 and message in result.stderr


def test_relative_times_follow_the_course_zone() -> None:
    from zoneinfo import ZoneInfo

    from app.services.courses import resolve_time

    zone = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 1, 5, 17, 30, tzinfo=UTC)  # already 6 January in Shanghai
    due = resolve_time("+1d@12:00", zone, now)
    assert due == datetime(2026, 1, 7, 12, 0, tzinfo=zone)
    assert resolve_time("2020-01-06T12:00", zone, now) == datetime(2020, 1, 6, 12, tzinfo=zone)


def test_a_course_without_a_zone_takes_the_sites(embedded: Stack, monkeypatch) -> None:
    from app.config import get_settings
    from app.db import session_scope
    from app.services.courses import CourseSpec, load_course

    monkeypatch.setenv("CAMP_DEFAULT_TIMEZONE", "Europe/Berlin")
    get_settings.cache_clear()
    spec = CourseSpec.model_validate({"slug": "zone-default", "title": "t", "assignments": [
        {"code": "1", "title": "t", "opens": "2026-01-01T08:00", "due": "2026-01-02T08:00"}]})
    with session_scope() as session:
        course = load_course(session, spec)
        assert course.timezone == "Europe/Berlin"
        assert course.assignments[0].opens_at.isoformat() == "2026-01-01T07:00:00+00:00"
