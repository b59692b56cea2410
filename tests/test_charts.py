"""Server-side SVG charts: escaped labels, and the student's scores over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.support.homework import Reply, add_replies, make_course, own_queue
from tests.support.staff import user_id
from tests.support.web import register


def test_timeline_chart_escapes_every_label() -> None:
    from app.services.timeline_chart import Point, timeline_chart

    at = datetime(2026, 11, 1, tzinfo=UTC)
    evil = '<script>alert("x")</script>'
    svg = str(timeline_chart({evil: [Point(at, 0.5, evil), Point(at + timedelta(days=1), 2.0, "ok")]},
                             title=evil, start_label=evil, end_label="&"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp;" in svg
    assert svg.count("<circle") == 2 and "<polyline" in svg and svg.startswith("<svg")
    assert ">2<" in svg  # the y axis reaches the highest score


def test_timeline_chart_without_points_is_an_empty_frame() -> None:
    from app.services.timeline_chart import timeline_chart

    svg = str(timeline_chart({}, title="t"))
    assert "<circle" not in svg and svg.endswith("</svg>")


def test_histogram_chart_escapes_its_title() -> None:
    from app.services.chart import score_chart

    svg = str(score_chart([0.1, 0.5, 0.9], title="<b>&", mine=0.5, mine_label="<i>"))
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg and "&lt;i&gt;" in svg


def test_my_submissions_chart_and_homework_filter(embedded_client: TestClient) -> None:
    from app.db import session_scope
    from app.models import Submission

    client = embedded_client
    name = register(client)
    slug = make_course({"code": "6-2", "title": "MNIST <b>"}, {"code": "7-1"})
    own_queue(slug)  # the queued row stays queued: no worker of another test serves this queue
    me = user_id(name)
    mnist = add_replies(slug, "6-2", [Reply(me, score=0.91), Reply(me, score=0.97)])
    add_replies(slug, "7-1", [Reply(me, score=1.0), Reply(me, status="queued", score=None)])
    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id == mnist[0])
                        .values(created_at=datetime.now(UTC) - timedelta(days=2)))
    page = client.get("/me/submissions").text
    assert 'class="chart timeline"' in page and page.count("<circle") == 3
    assert "MNIST &lt;b&gt;" in page and "MNIST <b>" not in page
    only = client.get("/me/submissions", params={"homework": f"{slug}/6-2"}).text
    assert only.count("<circle") == 2 and only.count("data-submission-id=") == 2
    assert f'value="{slug}/6-2" selected' in only
    unknown = client.get("/me/submissions", params={"homework": "nope/1"}).text
    assert unknown.count("data-submission-id=") == 4
