"""Resource abuse replayed as a hostile user would try it (docs/abuse.md, "Tried as an
attacker"): one reply that mails the whole class, previews that fill the thread pool."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.support.homework import Reply, add_replies, make_course, make_users
from tests.support.stacks import Stack
from tests.support.thread import account


def test_one_reply_cannot_notify_the_whole_class(client: TestClient, stack: Stack) -> None:
    """`回复#1 回复#2 … 回复#40`: every author of those floors got an inbox item (and a mail, if
    they asked for mail) from one reply; a spammer could reach thousands per post."""
    from app.db import session_scope
    from app.models import Notification

    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"}})
    add_replies(slug, "1-1", [Reply(uid) for uid in make_users(40)])
    _, spammer = account(stack)
    text = "作业1-1：" + " ".join(f"回复#{n}" for n in range(1, 41)) + " 加群领资料"
    posted = client.post(f"/api/v1/courses/{slug}/assignments/1-1/submissions", data={"text": text},
                         headers=spammer)
    assert posted.status_code == 201, posted.text
    with session_scope() as session:
        told = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.key == f"replied:{posted.json()['id']}"))
    assert told == 10  # MAX_TOLD_PER_REPLY: the first ten floors named


def test_parallel_previews_from_one_account_render_one_at_a_time(embedded_client: TestClient, embedded: Stack,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """64 KB of `[` takes markdown-it about 3 s of a core, and the preview renders it afresh every
    time: one account sending 24 previews at once took 24 threads for a minute of CPU and every
    page of the site waited. Now one preview per account renders at a time; the rest get 429."""
    from markupsafe import Markup

    from app.web import compose
    from tests.support.staff import log_in
    from tests.support.web import add_user, csrf_of

    gate, lock, running, peak = threading.Event(), threading.Lock(), [0], [0]

    def held_render(text: str) -> Markup:  # the slow renderer, held until every answer is in
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        gate.wait(120)
        with lock:
            running[0] -= 1
        return Markup("<p>[[[</p>")

    monkeypatch.setattr(compose, "render_markdown", held_render)
    client = embedded_client
    log_in(client, add_user(embedded))
    token = csrf_of(client, "/courses/dl-bootcamp/assignments/1-1")
    statuses: list[int] = []

    def preview() -> None:
        r = client.post("/markdown/preview", data={"text": "[" * 65536}, headers={"X-CSRF-Token": token})
        statuses.append(r.status_code)

    senders = [threading.Thread(target=preview) for _ in range(6)]
    for sender in senders:
        sender.start()
    while len(statuses) < 5 and peak[0] < 6 and any(s.is_alive() for s in senders):
        threading.Event().wait(0.02)  # until five were answered, or all six are rendering
    gate.set()
    for sender in senders:
        sender.join()
    assert peak[0] == 1 and sorted(statuses) == [200, 429, 429, 429, 429, 429]


class CountingCodes(frozenset[str]):
    """A course's homework codes that count how often the router looks one up."""

    lookups = 0

    def __contains__(self, item: object) -> bool:
        CountingCodes.lookups += 1
        return super().__contains__(item)


def test_a_prefix_with_thousands_of_pieces_costs_a_few_lookups() -> None:
    """`作业1-1-1-…-1：` (30,000 pieces, 64 KB) made the router try every parent code, each joined
    anew: 18 s of a core per post or preview."""
    from app.services.reply_routing import split_reply

    codes = CountingCodes({"1-1", "7-1", "8"})
    CountingCodes.lookups = 0
    routing = split_reply("作业1" + "-1" * 30000 + "：已跑通", codes, "1-1")
    assert [(p.code, p.flag) for p in routing.parts] == [("1-1", "filed_under_parent")]
    assert CountingCodes.lookups <= 5


def test_a_prefix_with_a_5000_digit_code_is_an_unknown_homework_not_a_crash(client: TestClient, stack: Stack) -> None:
    """`作业111…1：` with 5,000 digits: int() refuses more than 4,300 digits and the post was a 500."""
    _, student = account(stack)
    text = "作业" + "1" * 5000 + "：hi"
    preview = client.post("/api/v1/courses/dl-bootcamp/replies/preview", data={"text": text}, headers=student)
    assert preview.status_code == 200 and preview.json()["unknown"] == ["1" * 5000]
    posted = client.post("/api/v1/courses/dl-bootcamp/assignments/1-1/submissions", data={"text": text},
                         headers=student)
    assert posted.status_code == 201, posted.text


def test_a_5000_digit_operation_count_is_a_wrong_answer_not_a_crashed_grading() -> None:
    """`乘法111…1`: int() refused the number and the grading crashed (retried, then failed for the
    staff to see) instead of telling the student the count is wrong."""
    import grader

    seed = {"input": [10, 3, 224, 224], "out_channels": 64, "kernel": [3, 3], "stride": 1, "padding": 1}
    report = grader.grade("conv_opcount", assignment="7-1", text="作业7-1：乘法" + "1" * 5000 + "，加法867041280",
                          config=seed)
    assert report.verdict == "wrong"
