"""Attack replays against the course editor: rigging a published draw by editing its homework.

A draw publishes its homework's deadline and rule when it is committed, but collects its entries
from the homework's times when it freezes, and names its rule by position. An editor (an
instructor of the course, or an admin) who moved the deadline between commit and freeze decided
who entered; one who slid a new rule in front of a drawn one could draw the same prize again.
Both are refused now until the draw is aborted (publicly) or, for times, revealed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.editor import confirm, form_fields, problems, review
from tests.support.homework import Reply, add_replies, make_course, make_users
from tests.support.stacks import Stack
from tests.support.staff import commit_draw, post_form, staff_client, upload_course
from tests.support.web import add_user, api_token


def _lottery_course(teacher: str) -> str:
    from app.db import session_scope
    from app.services.courses import get_course, set_instructors

    slug = make_course({"code": "1-1", "rewards": [{"kind": "lottery", "k": 3, "text": "抽3人"}]})
    with session_scope() as session:
        set_instructors(session, get_course(session, slug), [teacher])
    return slug


def _abort(draw_id: int, actor: str) -> None:
    from app.db import session_scope
    from app.models import User
    from app.services import draws

    with session_scope() as session:
        user = session.scalar(select(User).where(User.name == actor))
        assert user is not None
        draws.abort_draw(session, draw_id, user, reason="测试")


def _homework(slug: str) -> tuple[str, list[object]]:
    from app.db import session_scope
    from app.services.courses import get_assignment

    with session_scope() as session:
        found = get_assignment(session, slug, "1-1")
        return found.due_at.isoformat(), list(found.reward_rules or [])


def test_moving_the_deadline_of_a_committed_draw_is_refused(embedded_client: TestClient,
                                                            embedded: Stack) -> None:
    client = embedded_client
    teacher = staff_client(client, embedded, "instructor")
    slug = _lottery_course(teacher)
    due = form_fields(client.get(f"/staff/courses/{slug}/edit/homework/1-1").text)["due"]
    earlier = (datetime.fromisoformat(due) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    # reviewed before the draw was committed: the course's version does not change with a draw
    raced = review(client, slug, "1-1", due=earlier)
    assert raced.status_code == 200, problems(raced.text)
    before = _homework(slug)
    draw_id = commit_draw(slug, teacher)

    refused = review(client, slug, "1-1", due=earlier)
    assert refused.status_code == 422
    listed = problems(refused.text)
    assert "assignments[0] (1-1).due" in listed and f"#{draw_id}" in listed, listed
    assert 'data-error-for="due"' in refused.text
    late = confirm(client, slug, raced)  # the review page from before the commit
    assert late.status_code == 422, late.text[:500]
    # the course's own time zone moves every time too: a forged document is refused the same way
    document = json.loads(form_fields(raced.text, "confirm-save")["document"])
    document["assignments"][0]["due"] = form_fields(
        client.get(f"/staff/courses/{slug}/edit/homework/1-1").text)["due"]
    document["timezone"] = "Asia/Shanghai"
    fields = {**form_fields(raced.text, "confirm-save"), "document": json.dumps(document)}
    assert client.post(f"/staff/courses/{slug}/edit/save", data=fields).status_code == 422
    assert _homework(slug) == before

    # how the homework grades (which replies are entries, which one of a student's counts) too
    for field, value in (("late_policy", "refuse"), ("reply_format", "作业1-1 答案：XXX"),
                         ("grading_settings", "review: true")):
        changed = review(client, slug, "1-1", **{field: value})
        assert changed.status_code == 422, (field, problems(changed.text))
        assert f"assignments[0] (1-1).{field.replace('_settings', '')}" in problems(changed.text), field

    # other fields of the homework stay editable while the draw runs
    titled = review(client, slug, "1-1", title="新标题")
    assert titled.status_code == 200 and confirm(client, slug, titled).status_code == 303

    _abort(draw_id, teacher)  # publicly: the aborted draw stays on the draws page with its reason
    moved = review(client, slug, "1-1", due=earlier)
    assert moved.status_code == 200, problems(moved.text)
    assert confirm(client, slug, moved).status_code == 303
    assert _homework(slug)[0] != before[0]


def test_a_drawn_rule_cannot_be_moved_changed_or_removed(embedded_client: TestClient,
                                                         embedded: Stack) -> None:
    client = embedded_client
    teacher = staff_client(client, embedded, "instructor")
    slug = _lottery_course(teacher)
    draw_id = commit_draw(slug, teacher)
    rule = {"kind": "lottery", "k": 3, "text": "抽3人"}

    # a new rule slid in front of the drawn one: rule 0 would be a fresh, undrawn lottery
    page = client.get(f"/staff/courses/{slug}/edit/homework/1-1").text
    fields = form_fields(page)
    fields.update({"reward-0-kind": "lottery", "reward-0-count": "1", "reward-0-text": "抽1人",
                   "reward-0-ranks": "", "reward-0-prize": "",
                   "reward-1-kind": "lottery", "reward-1-count": "3", "reward-1-text": "抽3人"})
    slid = client.post(f"/staff/courses/{slug}/edit/review", data=fields)
    assert slid.status_code == 422, problems(slid.text)
    assert "assignments[0] (1-1).rewards[0]" in problems(slid.text)
    assert f"#{draw_id}" in problems(slid.text)

    changed = review(client, slug, "1-1", **{"reward-0-count": "30"})
    assert changed.status_code == 422 and "rewards[0]" in problems(changed.text)
    removed = review(client, slug, "1-1", **{"reward-0-delete": "1"})
    assert removed.status_code == 422 and "rewards[0]" in problems(removed.text)
    assert _homework(slug)[1] == [rule]

    # a rule added after the drawn one is fine
    added = review(client, slug, "1-1", **{"reward-1-kind": "lottery", "reward-1-count": "1",
                                           "reward-1-text": "再抽1人"})
    assert added.status_code == 200, problems(added.text)
    assert confirm(client, slug, added).status_code == 303
    assert _homework(slug)[1] == [rule, {"kind": "lottery", "count": 1, "text": "再抽1人"}]


def test_an_uploaded_course_file_cannot_move_a_running_draws_deadline(embedded_client: TestClient,
                                                                       embedded: Stack) -> None:
    import yaml

    client = embedded_client
    admin = staff_client(client, embedded, "admin")
    slug = _lottery_course(admin)
    exported = client.get(f"/staff/courses/{slug}/course.yaml")
    assert exported.status_code == 200
    document = yaml.safe_load(exported.text)
    draw_id = commit_draw(slug, admin)
    before = _homework(slug)
    due = datetime.fromisoformat(str(document["assignments"][0]["due"]))
    document["assignments"][0]["due"] = (due - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused = upload_course(client, yaml.safe_dump(document, allow_unicode=True).encode(), "c.yaml")
    assert refused.status_code == 422, refused.text[:800]
    assert "assignments[0] (1-1).due" in refused.text and f"#{draw_id}" in refused.text
    assert _homework(slug) == before


def test_an_instructor_of_another_course_cannot_act_on_a_course_that_lists_its_own(
        embedded_client: TestClient, embedded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor's rejudge offer posts to the staff dashboard's route, which took any
    instructor: one of another course could regrade a homework whose lottery was running, give
    a review score (`top_score by: review`), hide a rival's entry or exclude it as a copy."""
    from app.db import session_scope
    from app.models import Submission
    from app.services import rejudge

    monkeypatch.setattr(rejudge, "enqueue_grading", lambda sid, queue: None)  # keep it waiting
    client = embedded_client
    owner = add_user(embedded, "instructor")
    slug = _lottery_course(owner)
    [author] = make_users(1)
    [sid] = add_replies(slug, "1-1", [Reply(author, verdict="accepted", score=1.0)])
    open_slug = make_course({"code": "1-1"})  # names no instructors: open to every instructor
    [open_sid] = add_replies(open_slug, "1-1", [Reply(author, verdict="accepted", score=1.0)])

    stranger = staff_client(client, embedded, "instructor")
    other = _lottery_course(stranger)  # the stranger teaches a course of their own
    assert other != slug
    page = f"/courses/{slug}/assignments/1-1"
    for url in (f"/staff/courses/{slug}/assignments/1-1/rejudge", f"/staff/submissions/{sid}/rejudge"):
        refused = post_form(client, url, {}, page)
        assert refused.status_code == 403, (url, refused.status_code)
    token = {"Authorization": f"Bearer {api_token(embedded, stranger)}"}
    assert client.post(f"/api/v1/submissions/{sid}/rejudge", headers=token).status_code == 403
    assert client.post(f"/api/v1/courses/{slug}/assignments/1-1/rejudge", headers=token).status_code == 403
    # nor review, hide, or exclude from the draws (copies, likers) in it: web and API
    assert client.put(f"/api/v1/submissions/{sid}/review", json={"score": 100},
                      headers=token).status_code == 403
    assert client.post(f"/api/v1/submissions/{sid}/hide", json={"reason": "x"}, headers=token).status_code == 403
    assert post_form(client, f"/submissions/{sid}/hide", {"reason": "x"}, page).status_code == 403
    base = f"/api/v1/courses/{slug}/assignments/1-1"
    assert client.post(f"{base}/similar/run", headers=token).status_code == 403
    assert client.post(f"{base}/like-exclusions", json={"user_ids": [author], "reason": "x"},
                       headers=token).status_code == 403
    with session_scope() as session:
        row = session.get(Submission, sid)
        assert row is not None and row.status != "queued" and row.verdict == "accepted"
        assert not row.hidden and row.review_score is None
    # a course without a list, and the course's own instructor, still may
    assert client.post(f"/api/v1/submissions/{open_sid}/rejudge", headers=token).status_code == 202
    mine = {"Authorization": f"Bearer {api_token(embedded, owner)}"}
    assert client.post(f"/api/v1/submissions/{sid}/rejudge", headers=mine).status_code == 202


XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>"\'><svg onload=alert(3)>'


def test_markup_in_homework_titles_texts_and_rules_stays_text_on_every_page(
        embedded_client: TestClient, embedded: Stack) -> None:
    """An editor's title, text, rule text and prize with markup in them: escaped (or, for the
    Markdown text, sanitised) on the homework, course, leaderboard and draws pages and the diff."""
    client = embedded_client
    teacher = staff_client(client, embedded, "instructor")
    slug = _lottery_course(teacher)
    reviewed = review(client, slug, "1-1", title="作业" + XSS, body="正文 " + XSS + " [x](javascript:alert(4))",
                      **{"reward-0-text": "抽奖" + XSS, "reward-0-prize": "奖品" + XSS})
    assert reviewed.status_code == 200, problems(reviewed.text)
    assert "<script>alert(2)" not in reviewed.text and "<img src=x" not in reviewed.text
    assert confirm(client, slug, reviewed).status_code == 303
    draw_id = commit_draw(slug, teacher)
    pages = [f"/courses/{slug}", f"/courses/{slug}/assignments/1-1",
             f"/courses/{slug}/assignments/1-1/leaderboard", f"/courses/{slug}/assignments/1-1/draws",
             f"/draws/{draw_id}", f"/staff/courses/{slug}/edit", f"/staff/courses/{slug}/edit/homework/1-1",
             f"/staff/courses/{slug}"]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        for raw in ("<script>alert(2)", "<img src=x", "<svg onload", "href=\"javascript:"):
            assert raw not in page.text, (path, raw)
    homework = client.get(f"/courses/{slug}/assignments/1-1").text
    assert "&lt;script&gt;" in homework or "&lt;img" in homework  # shown as text, not dropped silently


@pytest.mark.parametrize("code", ["7-1\n", "٧-١"])
def test_a_homework_code_is_ascii_digits_and_nothing_after(embedded_client: TestClient, embedded: Stack,
                                                            code: str) -> None:
    """A course file names a homework `٧-١` (Arabic-Indic digits are `\\d`): loaded, its CSV
    exports (submissions, leaderboard) answered 500 for every member of the staff, the file
    name header cannot carry it. `"7-1\\n"` (the pattern's `$` let a final newline through)
    put a line break into the code, its addresses and that header. Both refused now."""
    import secrets

    client = embedded_client
    staff_client(client, embedded, "admin")
    slug = f"cd-{secrets.token_hex(3)}"
    course = (f"slug: {slug}\ntitle: t\nassignments:\n  - code: {json.dumps(code)}\n    title: x\n"
              '    opens: "-1d"\n    due: "+7d"\n')
    refused = upload_course(client, course.encode())
    assert refused.status_code == 422 and "作业编号的形式是 7 或 7-1" in refused.text
    from app.db import session_scope
    from app.models import Course

    with session_scope() as session:
        assert session.scalar(select(Course.id).where(Course.slug == slug)) is None
