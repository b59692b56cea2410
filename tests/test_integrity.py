"""The attacks on Camp's prizes, replayed: each must fail (docs/integrity.md)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.support.homework import Reply, add_replies, make_course, make_users, now
from tests.support.stacks import Stack
from tests.support.thread import user_id
from tests.support.web import add_user, api_token, make_client, register

SPLIT = {"kind": "mnist", "public_fraction": 0.5, "rank_on": "all"}
LOTTERY_71 = {"code": "7-1", "grading": {"kind": "conv_opcount", "input_shape": [1, 1, 4, 4],
                                         "out_channels": 1, "kernel": [3, 3]},
              "rewards": [{"kind": "lottery", "k": 5}]}


def bearer(stack: Stack, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(stack, name)}"}


def set_rows(ids: list[int], **values: object) -> None:
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id.in_(ids)).values(**values))


def test_an_accepted_answer_is_sealed_until_the_deadline(client: TestClient, stack: Stack) -> None:
    """Copying answers: before the deadline nobody but the author and the staff sees an
    accepted 7-1 answer, its verdict or its score; at the deadline everything opens."""
    author = add_user(stack)
    slug = make_course(LOTTERY_71)
    [sid] = add_replies(slug, "7-1", [Reply(user_id(author))])
    set_rows([sid], text="作业7-1：乘法1296,加法1296", messages={"en": "Correct", "zh_CN": "正确"})
    other = bearer(stack, add_user(stack))
    for headers in ({}, other):
        seen = client.get(f"/api/v1/submissions/{sid}", headers=headers).json()
        assert seen["sealed"] is True and seen["text"] == "" and seen["floor"] >= 1
        assert seen["verdict"] is None and seen["score"] is None and seen["message"] is None
    mine = client.get(f"/api/v1/submissions/{sid}", headers=bearer(stack, author)).json()
    assert mine["text"].endswith("加法1296") and mine["verdict"] == "accepted"
    page = client.get(f"/courses/{slug}/assignments/7-1", headers=other).text
    assert "乘法1296" not in page and "答案在截止前封存" in page
    english = client.get(f"/courses/{slug}/assignments/7-1?lang=en", headers=other).text
    assert "Answers are sealed until the deadline" in english
    staff = client.get(f"/api/v1/submissions/{sid}", headers=bearer(stack, add_user(stack, "instructor")))
    assert staff.json()["verdict"] == "accepted"
    events = client.get(f"/submissions/{sid}/events").text
    assert '"verdict": null' in events and '"score": null' in events

    from app.db import session_scope
    from app.models import Assignment, Course

    with session_scope() as session:
        session.execute(update(Assignment).where(Assignment.course_id.in_(
            Course.__table__.select().with_only_columns(Course.id).where(Course.slug == slug)))
            .values(opens_at=now() - timedelta(days=9), due_at=now() - timedelta(seconds=1)))
    opened = client.get(f"/api/v1/submissions/{sid}", headers=other).json()
    assert opened["sealed"] is False and opened["verdict"] == "accepted" and "乘法1296" in opened["text"]


def test_the_private_split_cannot_be_derived_before_the_deadline(client: TestClient, stack: Stack) -> None:
    """(overall·total − public·public_count)/private_count needs overall and total: never shown."""
    author = add_user(stack)
    slug = make_course({"code": "6-2", "grading": SPLIT})
    detail = {"accuracy": 0.9, "correct": 900, "total": 1000, "public_accuracy": 0.95,
              "public_count": 500, "private_accuracy": 0.85, "private_count": 500, "rank_on": "all"}
    [sid] = add_replies(slug, "6-2", [Reply(user_id(author), score=0.9, detail=detail)])
    set_rows([sid], messages={"en": "Accuracy on the hidden test set: 90.00%"})
    mine = client.get(f"/api/v1/submissions/{sid}", headers=bearer(stack, author)).json()
    assert mine["score"] == 0.95 and "95.00%" in mine["message"] and "90.00" not in mine["message"]
    assert set(mine["detail"]) <= {"public_accuracy", "public_count", "rank_on", "wall_seconds", "device"}
    listed = client.get("/api/v1/me/submissions", headers=bearer(stack, author)).json()
    assert [s["score"] for s in listed if s["id"] == sid] == [0.95]
    events = client.get(f"/submissions/{sid}/events").text
    assert '"score": 0.9,' not in events and '"score": null' in events  # 6-2 is sealed to others too
    board = client.get(f"/api/v1/courses/{slug}/assignments/6-2/leaderboard",
                       headers=bearer(stack, author)).json()
    assert board["rows"][0]["grader_score"] is None and board["rows"][0]["private_score"] is None


def _board(client: TestClient, slug: str) -> list[tuple[int, float]]:
    body = client.get(f"/api/v1/courses/{slug}/assignments/6-2/leaderboard").json()
    return [(r["submission_id"], r["score"]) for r in body["rows"]]


def test_final_picks_decide_the_private_ranking(client: TestClient, stack: Stack) -> None:
    """Probing the hidden set with many uploads no longer pays: only final picks count."""
    author = add_user(stack)
    headers = bearer(stack, author)
    slug = make_course({"code": "6-2", "grading": SPLIT})
    uid = user_id(author)

    def split(public: float, private: float) -> Reply:
        return Reply(uid, score=(public + private) / 2,
                     detail={"public_accuracy": public, "private_accuracy": private})

    ids = add_replies(slug, "6-2", [split(0.90, 0.80), split(0.91, 0.81), split(0.50, 0.99),
                                    split(0.92, 0.82)])
    assert client.post(f"/api/v1/submissions/{ids[0]}/final", headers=headers).json()["finals"]
    assert client.post(f"/api/v1/submissions/{ids[1]}/final", headers=headers).status_code == 200
    third = client.post(f"/api/v1/submissions/{ids[2]}/final", headers=headers)
    assert third.status_code == 409 and "2" in third.json()["detail"]
    other = bearer(stack, add_user(stack))
    assert client.post(f"/api/v1/submissions/{ids[3]}/final", headers=other).status_code == 403
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        marked = [s.id for s in session.query(Submission).filter(Submission.id.in_(ids), Submission.final_pick)]
    assert sorted(marked) == ids[:2]  # the refused third changed nothing

    from app.models import Assignment

    with session_scope() as session:
        aid = session.get(Submission, ids[0]).assignment_id  # type: ignore[union-attr]
        session.execute(update(Assignment).where(Assignment.id == aid)
                        .values(opens_at=now() - timedelta(days=9), due_at=now() - timedelta(seconds=1)))
    # the probe (#3: private 0.99) is not a final pick: the best final pick's private value ranks
    assert _board(client, slug) == [(ids[1], 0.81)]
    late = client.delete(f"/api/v1/submissions/{ids[0]}/final", headers=headers)
    assert late.status_code == 403 and late.json()["code"]


def test_unmarked_students_count_their_two_best_public_scores(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "6-2", "grading": SPLIT}, opens=now() - timedelta(days=9),
                       due=now() + timedelta(days=1))
    [uid] = make_users(1)
    ids = add_replies(slug, "6-2", [
        Reply(uid, detail={"public_accuracy": p, "private_accuracy": q})
        for p, q in ((0.90, 0.70), (0.95, 0.75), (0.40, 0.99))])
    from app.db import session_scope
    from app.models import Assignment, Submission

    with session_scope() as session:
        aid = session.get(Submission, ids[0]).assignment_id  # type: ignore[union-attr]
        session.execute(update(Assignment).where(Assignment.id == aid).values(due_at=now() - timedelta(seconds=1)))
    assert _board(client, slug) == [(ids[1], 0.75)]


def test_farmed_likes_do_not_count_toward_top_likes(client: TestClient, stack: Stack) -> None:
    """Twenty accounts registered through the web form like one reply (and each gets an accepted
    reply in the course): the reply does not lead the top_likes entries 20 to 1."""
    slug = make_course({"code": "1-2", "grading": {"kind": "reply_format"},
                        "rewards": [{"kind": "top_likes", "n": 1}]}, {"code": "1-1"})
    honest_a, honest_b, liker = make_users(3)
    from app.db import session_scope
    from app.models import LikeEvent, User

    with session_scope() as session:  # established accounts: registered before it opened
        session.execute(update(User).where(User.id.in_([honest_a, honest_b, liker]))
                        .values(created_at=now() - timedelta(days=30)))
    farmed_target, honest_target = add_replies(slug, "1-2", [Reply(honest_a), Reply(honest_b)])
    farm = []
    for _ in range(20):
        with make_client() as browser:
            farm.append(user_id(register(browser)))
            page = browser.get(f"/courses/{slug}/assignments/1-2").text
            token = page.split('name="csrf_token" value="')[1].split('"')[0]
            liked = browser.post(f"/submissions/{farmed_target}/like", data={"csrf_token": token},
                                 follow_redirects=False)
            assert liked.status_code == 303
    add_replies(slug, "1-1", [Reply(u) for u in farm])  # even with an accepted reply each
    with session_scope() as session:
        session.add(LikeEvent(submission_id=honest_target, user_id=liker, liked=True,
                              at=now() - timedelta(minutes=5)))
    page_likes = client.get(f"/api/v1/submissions/{farmed_target}/likes", headers=bearer(stack, add_user(stack)))
    assert page_likes.json()["likes"] == 20  # pages still show every like
    staff = bearer(stack, add_user(stack, "instructor"))
    body = client.get(f"/api/v1/courses/{slug}/assignments/1-2/entries", headers=staff).json()
    likes = {e["entry_id"]: e["likes"] for e in body["entries"]}
    assert likes[farmed_target] == 0 and likes[honest_target] == 0
    # the honest liker has no accepted reply yet: with one, their like counts and leads
    add_replies(slug, "1-1", [Reply(liker)])
    body = client.get(f"/api/v1/courses/{slug}/assignments/1-2/entries", headers=staff).json()
    counts = {e["entry_id"]: e["likes"] for e in body["entries"]}
    assert counts[honest_target] == 1 and counts[farmed_target] == 0


def test_leaks_around_the_gate_are_closed(client: TestClient, stack: Stack) -> None:
    author = add_user(stack)
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"}})
    hidden, deleted = add_replies(slug, "1-1", [Reply(user_id(author)), Reply(user_id(author))])
    set_rows([hidden], hidden=True, hidden_by="staff", text="作业1-1：秘密一")
    set_rows([deleted], hidden=True, hidden_by="author", text="作业1-1：秘密二")
    events = client.get(f"/submissions/{hidden}/events").text
    assert '"verdict": null' in events and '"score": null' in events
    other = bearer(stack, add_user(stack))
    for sid in (hidden, deleted):
        page = client.get(f"/submissions/{sid}/edit", headers=other)
        assert page.status_code == 403 and "秘密" not in page.text
    assert client.get(f"/submissions/{deleted}/edit", headers=bearer(stack, author)).status_code == 404
    staff = bearer(stack, add_user(stack, "instructor"))
    refused = client.post(f"/api/v1/submissions/{deleted}/unhide", headers=staff)
    assert refused.status_code == 403 and "删除" in refused.json()["detail"]
    assert client.post(f"/api/v1/submissions/{hidden}/unhide", headers=staff).status_code == 200


def test_the_worker_gives_each_course_its_own_secret_perturbation_seed(stack: Stack) -> None:
    from app.db import session_scope
    from app.models import Assignment, Course
    from worker.grading import task_config

    first = make_course({"code": "6-2", "grading": {**SPLIT, "perturb_seed": "chosen-by-the-course-file"}})
    second = make_course({"code": "6-2", "grading": SPLIT})
    off = make_course({"code": "6-2", "grading": {**SPLIT, "perturb": False}})
    with session_scope() as session:
        configs = {slug: task_config(session.scalars(select(Assignment).join(Course).where(
            Course.slug == slug)).one()) for slug in (first, second, off)}
    seeds = [configs[s].get("perturb_seed") for s in (first, second)]
    assert all(seeds) and seeds[0] != seeds[1] and "chosen-by-the-course-file" not in seeds
    assert "perturb_seed" not in configs[off]
