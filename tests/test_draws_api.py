"""Draws through the API on both stacks: the seed's rules end to end, eligibility with visible
reasons, records that verify (and tampered ones that do not), the protocol's refusals,
concurrency, permissions, and the audit trail."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.support.homework import (
    FREEZE_2023,
    REPLACEMENT_FREEZE_2023,
    ROUND_123_SIGNATURE,
    ROUND_657413_SIGNATURE,
    Reply,
    add_replies,
    backdate_draw,
    freeze_in_2023,
    make_course,
    make_users,
    move_draw_to_2023,
    move_replacement_to_2023,
    now,
    own_queue,
    replies_2023,
)
from tests.support.stacks import PROJECT_ROOT, Stack
from tests.support.web import add_user, api_token

RULE_1_1 = {"kind": "fixed_ranks", "ranks": "1-3,6,66+100n<=666", "text": "前3名以及第6、66…666名",
            "prize": "飞桨定制大礼包"}
RULE_4_1 = {"kind": "fixed_ranks", "ranks": "2,3,23,123+100n", "prize": "飞桨定制本"}
SEED_RANKS_700 = [1, 2, 3, 6, 66, 166, 266, 366, 466, 566, 666]


def bearer(stack: Stack, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(stack, add_user(stack, role))}"}


@pytest.fixture
def admin(stack: Stack) -> dict[str, str]:
    return bearer(stack, "admin")


def draws_url(slug: str, code: str) -> str:
    return f"/api/v1/courses/{slug}/assignments/{code}/draws"


def run_draw(client: TestClient, admin: dict[str, str], slug: str, code: str,
             public_value: str | None = None, **commit: object) -> dict[str, object]:
    """Commit (rule 0 unless given), freeze on time, reveal; returns the revealed record. A
    lottery is moved to 2023 (its replies must be from then: `replies_2023`) and revealed with
    the real drand round it names."""
    body = {"rule_index": 0, **commit}
    created = client.post(draws_url(slug, code), json=body, headers=admin)
    assert created.status_code == 201, created.text
    draw_id = created.json()["draw_id"]
    if created.json()["beacon"] is not None:
        move_draw_to_2023(draw_id)
        freeze_in_2023(draw_id)
        reveal_body: dict[str, object] = {"beacon_signature": ROUND_123_SIGNATURE}
    else:
        backdate_draw(draw_id)
        frozen = client.post(f"/api/v1/draws/{draw_id}/freeze", headers=admin)
        assert frozen.status_code == 200, frozen.text
        reveal_body = {"public_value": public_value}
    revealed = client.post(f"/api/v1/draws/{draw_id}/reveal", json=reveal_body, headers=admin)
    assert revealed.status_code == 200, revealed.text
    return revealed.json()


def verify_cli(stack: Stack, path: Path) -> subprocess.CompletedProcess[str]:
    return stack.camp("draw", "verify", str(path), "--lang", "en")


def verify_script(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PROJECT_ROOT / "app" / "static" / "verify_draw.py"),
                           str(path)], capture_output=True, text=True, timeout=60)


# --- the seed's rules --------------------------------------------------------------------


@pytest.mark.slow  # 700 students and their replies
def test_homework_1_1_with_700_entries_picks_the_seed_ranks(
    client: TestClient, stack: Stack, admin: dict[str, str], tmp_path: Path
) -> None:
    slug = make_course({"code": "1-1", "rewards": [RULE_1_1]})
    students = make_users(700)
    staff = make_users(1, role="instructor", prefix="t")
    # 700 valid first replies, with noise around them that must not count.
    replies: list[Reply] = []
    for i, sid in enumerate(students):
        if i % 50 == 7:
            replies.append(Reply(sid, verdict="format_error", score=0.0))
        replies.append(Reply(sid))
        if i % 30 == 0:
            replies.append(Reply(sid))  # a duplicate of an earlier student
        if i % 99 == 0:
            replies.append(Reply(staff[0]))
    ids = add_replies(slug, "1-1", replies)
    first_valid = [ids[i] for i, r in enumerate(replies)
                   if r.verdict == "accepted" and r.author_id in students
                   and r.author_id not in {replies[j].author_id for j in range(i) if replies[j].verdict == "accepted"}]
    assert len(first_valid) == 700

    record = run_draw(client, admin, slug, "1-1")
    assert record["status"] == "revealed" and record["entry_count"] == 700
    assert [w["position"] for w in record["winners"]] == SEED_RANKS_700
    assert [w["entry_id"] for w in record["winners"]] == [first_valid[r - 1] for r in SEED_RANKS_700]
    assert record["prize"] == "飞桨定制大礼包" and record["seed"] and record["key"]

    downloaded = client.get(f"/api/v1/draws/{record['draw_id']}/record")
    assert downloaded.json() == record
    path = tmp_path / "record.json"
    path.write_bytes(downloaded.content)
    cli = verify_cli(stack, path)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    script = verify_script(path)
    assert script.returncode == 0 and "VERIFIED" in script.stdout, script.stdout


@pytest.mark.parametrize(("entries", "ranks"), [pytest.param(330, [2, 3, 23, 123, 223, 323], marks=pytest.mark.slow),
                                               (50, [2, 3, 23])])
def test_homework_4_1_ranks_beyond_the_entries_are_void(
    client: TestClient, stack: Stack, admin: dict[str, str], entries: int, ranks: list[int]
) -> None:
    slug = make_course({"code": "4-1", "rewards": [RULE_4_1]})
    ids = add_replies(slug, "4-1", [Reply(s) for s in make_users(entries)])
    record = run_draw(client, admin, slug, "4-1")
    assert [w["position"] for w in record["winners"]] == ranks
    assert [w["entry_id"] for w in record["winners"]] == [ids[r - 1] for r in ranks]


# --- eligibility ---------------------------------------------------------------------------


def test_exclusions_are_listed_for_staff_with_reasons(
    client: TestClient, stack: Stack, admin: dict[str, str]
) -> None:
    due = now() - timedelta(days=1)
    slug = make_course({"code": "7-2", "rewards": [
        {"kind": "lottery", "k": 2, "eligibility": "correct_only", "prize": "本子"}]},
        opens=now() - timedelta(days=8), due=due)
    a, b, c, d, e = make_users(5)
    teacher = make_users(1, role="instructor", prefix="t")[0]
    early = due - timedelta(hours=2)
    ids = add_replies(slug, "7-2", [
        Reply(a, at=early),                                          # entry
        Reply(a, at=early + timedelta(minutes=1)),                   # duplicate
        Reply(b, verdict="format_error", score=0, at=early),         # wrong format
        Reply(b, verdict="wrong", score=0, at=early),                # not correct
        Reply(teacher, at=early),                                    # staff
        Reply(c, at=due + timedelta(minutes=5)),                     # late
        Reply(d, at=early, hidden=True),                             # hidden
        Reply(e, status="failed", at=early),                         # platform failure
        Reply(e, at=early + timedelta(minutes=2)),                   # entry
    ])
    body = {"rule_index": 0, "freeze_at": (now() + timedelta(days=1)).isoformat()}
    late = client.post(draws_url(slug, "7-2"), json=body, headers=admin)  # the list is known
    assert late.status_code == 422 and late.json()["code"] == "commit.after_deadline"
    assert "迟到抽奖" in late.json()["detail"]
    created = client.post(draws_url(slug, "7-2"), json={**body, "late": True}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["late"] is True and created.json()["beacon"]["round"] > 0
    draw_id = created.json()["draw_id"]
    assert "仅限正确答案" in created.json()["eligibility"]

    preview = client.get(f"/api/v1/draws/{draw_id}/entries", headers=admin).json()
    assert preview["frozen"] is False
    assert [x["entry_id"] for x in preview["entries"]] == [ids[0], ids[8]]
    reasons = {x["submission_id"]: x["reason"] for x in preview["excluded"]}
    assert reasons == {ids[1]: "duplicate", ids[2]: "format_error", ids[3]: "not_correct",
                       ids[4]: "staff", ids[5]: "late", ids[6]: "hidden", ids[7]: "grading_failed"}
    messages = {x["reason"]: x["message"] for x in preview["excluded"]}
    assert messages["late"] == "截止时间之后提交" and "#" in messages["duplicate"]

    frozen = client.post(f"/api/v1/draws/{draw_id}/freeze", headers=admin,
                         json={"early_freeze_reason": "截止已过，提前冻结"})
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["entry_count"] == 2
    public = frozen.json()["excluded_list"].splitlines()  # every exclusion, in the open
    assert sorted(line.split("\t")[2] for line in public) == sorted(reasons.values())
    after = client.get(f"/api/v1/draws/{draw_id}/entries", headers=admin).json()
    assert after["frozen"] is True and {x["reason"] for x in after["excluded"]} == set(reasons.values())

    student = bearer(stack, "student")
    assert client.get(f"/api/v1/draws/{draw_id}/entries", headers=student).status_code == 403
    page = client.get(f"/draws/{draw_id}", headers={**admin, "accept": "text/html"})
    assert page.status_code == 200 and "截止时间之后提交" in page.text
    anonymous = client.get(f"/draws/{draw_id}", headers={"accept": "text/html"})
    assert "截止时间之后提交" in anonymous.text and "format_error" in anonymous.text

    # the committed drand round is a day away: nothing reveals it earlier, whatever the value
    for value in (None, "03 07 12 19 25 31 + 09", "ab" * 48):
        early_reveal = client.post(f"/api/v1/draws/{draw_id}/reveal", headers=admin,
                                   json={"beacon_signature": value})
        assert early_reveal.status_code == 409 and early_reveal.json()["code"] == "reveal.beacon_not_yet"


def test_top_likes_counts_likes_standing_at_the_freeze(
    client: TestClient, stack: Stack, admin: dict[str, str]
) -> None:
    from app.db import session_scope
    from app.models import LikeEvent, User

    slug = make_course({"code": "1-2", "rewards": [{"kind": "top_likes", "n": 2}]}, {"code": "1-1"})
    authors = make_users(3)
    fans = make_users(4, prefix="f")
    ids = add_replies(slug, "1-2", [Reply(a) for a in authors])
    # likes count from accounts older than the homework with an accepted reply (docs/integrity.md)
    add_replies(slug, "1-1", [Reply(f) for f in fans])
    with session_scope() as session:
        session.execute(update(User).where(User.id.in_(fans)).values(created_at=now() - timedelta(days=30)))
    t = now() - timedelta(minutes=30)
    events = [
        (ids[0], fans[0], True), (ids[0], fans[1], True), (ids[0], fans[1], False),  # undone: 1
        (ids[1], fans[0], True), (ids[1], fans[1], True),                           # 2
        (ids[2], authors[2], True), (ids[2], fans[2], True),                        # own like: 1
    ]
    with session_scope() as session:
        for i, (sid, uid, liked) in enumerate(events):
            session.add(LikeEvent(submission_id=sid, user_id=uid, liked=liked, at=t + timedelta(seconds=i)))
    record = run_draw(client, admin, slug, "1-2")
    with session_scope() as session:  # likes after the freeze do not change the result
        for fan in fans:
            session.add(LikeEvent(submission_id=ids[2], user_id=fan, liked=True, at=now()))
    assert [(w["entry_id"], w["likes"]) for w in record["winners"]] == [(ids[1], 2), (ids[0], 1)]
    assert record["frozen_list"].count("\n") == 3


def test_top_score_by_review_uses_the_best_reviewed_submission(
    client: TestClient, stack: Stack, admin: dict[str, str]
) -> None:
    slug = make_course({"code": "4-2", "rewards": [{"kind": "top_score", "n": 2, "by": "review"}]})
    a, b, c = make_users(3)
    ids = add_replies(slug, "4-2", [
        Reply(a, review_score=80), Reply(b, review_score=90), Reply(a, review_score=90),
        Reply(c),  # not reviewed
    ])
    record = run_draw(client, admin, slug, "4-2")
    assert [(w["entry_id"], w["score"]) for w in record["winners"]] == [(ids[1], "90"), (ids[2], "90")]


# --- the protocol --------------------------------------------------------------------------


def test_record_hides_the_seed_until_reveal_and_tampering_fails(
    client: TestClient, stack: Stack, admin: dict[str, str], tmp_path: Path
) -> None:
    slug = make_course({"code": "8", "rewards": [{"kind": "lottery", "k": 3, "prize": "飞桨本"}]})
    add_replies(slug, "8", replies_2023([Reply(s) for s in make_users(20)]))
    created = client.post(draws_url(slug, "8"), json={"rule_index": 0}, headers=admin).json()
    draw_id = created["draw_id"]
    anonymous = client.get(f"/api/v1/draws/{draw_id}/record").json()
    assert anonymous["seed"] is None and len(anonymous["commitment"]) == 64
    move_draw_to_2023(draw_id)
    freeze_in_2023(draw_id)
    assert client.get(f"/api/v1/draws/{draw_id}/record").json()["seed"] is None
    ground = client.post(f"/api/v1/draws/{draw_id}/reveal", json={"beacon_signature": "ab" * 48},
                         headers=admin)
    assert ground.status_code == 422 and ground.json()["code"] == "reveal.beacon_invalid"
    revealed = client.post(f"/api/v1/draws/{draw_id}/reveal", headers=admin,
                           json={"beacon_signature": ROUND_123_SIGNATURE})
    assert revealed.status_code == 200, revealed.text
    record = client.get(f"/api/v1/draws/{draw_id}/record").json()
    assert record["seed"] and len(record["winners"]) == 3 and record["signature"]["alg"] == "ed25519"
    assert record["audit_head"]["seq"] >= 1

    again = client.post(f"/api/v1/draws/{draw_id}/reveal", json={"beacon_signature": ROUND_123_SIGNATURE},
                        headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "state.wrong_status"
    assert client.get(f"/api/v1/draws/{draw_id}/record").json() == record
    assert client.post(f"/api/v1/draws/{draw_id}/abort", json={"reason": "x"},
                       headers=admin).status_code == 409

    def tampered(change: str) -> Path:
        data = json.loads(json.dumps(record))
        if change == "list":
            data["frozen_list"] = data["frozen_list"].replace("\t", "\t1", 1)
        elif change == "seed":
            data["seed"] = ("0" if data["seed"][0] != "0" else "1") + data["seed"][1:]
        else:
            data["prize"] = "一台电脑"
        path = tmp_path / f"{change}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return path

    for change in ("list", "seed", "prize"):
        path = tampered(change)
        assert verify_cli(stack, path).returncode == 1, change
        assert verify_script(path).returncode == 1, change


def test_abort_keeps_the_draw_visible_and_a_replacement_names_it(
    client: TestClient, stack: Stack, admin: dict[str, str]
) -> None:
    slug = make_course({"code": "9-1", "rewards": [{"kind": "lottery", "k": 1}]})
    add_replies(slug, "9-1", [Reply(s) for s in make_users(5)])
    first = client.post(draws_url(slug, "9-1"), json={"rule_index": 0}, headers=admin).json()
    busy = client.post(draws_url(slug, "9-1"), json={"rule_index": 0}, headers=admin)
    assert busy.status_code == 409
    blank = client.post(f"/api/v1/draws/{first['draw_id']}/abort", json={"reason": "  "}, headers=admin)
    assert blank.status_code == 422 and blank.json()["detail"] == "中止抽奖必须说明原因。"
    aborted = client.post(f"/api/v1/draws/{first['draw_id']}/abort", json={"reason": "规则写错了"},
                          headers=admin).json()
    assert aborted["status"] == "aborted" and aborted["abort_reason"] == "规则写错了" and aborted["seed"]

    second = client.post(draws_url(slug, "9-1"), headers=admin,
                         json={"rule_index": 0, "replaces_draw_id": first["draw_id"]})
    assert second.status_code == 201 and second.json()["replaces_draw_id"] == first["draw_id"]
    third = client.post(draws_url(slug, "9-1"), headers=admin,
                        json={"rule": {"kind": "lottery", "count": 1}, "replaces_draw_id": first["draw_id"]})
    assert third.status_code == 409
    listed = client.get(draws_url(slug, "9-1")).json()
    assert [(d["draw_id"], d["status"]) for d in listed] == [
        (second.json()["draw_id"], "committed"), (first["draw_id"], "aborted")]
    assert listed[1]["replaced_by_draw_id"] == second.json()["draw_id"]
    assert listed[1]["abort_reason"] == "规则写错了"


def test_refusals_are_in_the_readers_language(client: TestClient, stack: Stack, admin: dict[str, str]) -> None:
    slug = make_course({"code": "3-1", "rewards": []})
    url = draws_url(slug, "3-1")
    bad = client.post(url, json={"rule": {"kind": "fixed_ranks", "ranks": "1,,2"}}, headers=admin)
    assert bad.status_code == 422 and bad.json() == {
        "detail": "第 3 列是空项:请删除多余的逗号。", "code": "ranks.empty_term"}
    english = client.post(url, json={"rule": {"kind": "fixed_ranks", "ranks": "1,,2"}},
                          headers={**admin, "Accept-Language": "en"})
    assert english.json()["detail"] == "Empty term at column 3: remove the extra comma."
    past = client.post(url, json={"rule": {"kind": "lottery", "k": 2},
                                  "freeze_at": (now() - timedelta(hours=1)).isoformat()}, headers=admin)
    assert past.status_code == 422 and past.json()["code"] == "commit.freeze_before_commit"
    assert client.post(url, json={"rule_index": 3}, headers=admin).status_code == 404
    assert client.post(url, json={}, headers=admin).status_code == 422
    early = client.post(url, json={"rule": {"kind": "lottery", "k": 2}}, headers=admin).json()
    refused = client.post(f"/api/v1/draws/{early['draw_id']}/freeze", headers=admin)
    assert refused.status_code == 422 and refused.json()["code"] == "freeze.early_needs_reason"


def test_freeze_waits_for_grading_unless_told(client: TestClient, stack: Stack, admin: dict[str, str]) -> None:
    slug = make_course({"code": "5-1", "rewards": [{"kind": "lottery", "k": 1}]})
    own_queue(slug)  # the queued row stays queued: no worker of another test serves this queue
    a, b = make_users(2)
    add_replies(slug, "5-1", [Reply(a), Reply(b, status="queued")])
    draw_id = client.post(draws_url(slug, "5-1"), json={"rule_index": 0}, headers=admin).json()["draw_id"]
    backdate_draw(draw_id)
    refused = client.post(f"/api/v1/draws/{draw_id}/freeze", headers=admin)
    assert refused.status_code == 409 and "1" in refused.json()["detail"]
    frozen = client.post(f"/api/v1/draws/{draw_id}/freeze", json={"allow_pending": True}, headers=admin)
    assert frozen.status_code == 200 and frozen.json()["entry_count"] == 1


def test_students_and_instructors_cannot_run_draws(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "6-1", "rewards": [{"kind": "lottery", "k": 1}]})
    url = draws_url(slug, "6-1")
    for role in ("student", "instructor"):
        headers = bearer(stack, role)
        assert client.post(url, json={"rule_index": 0}, headers=headers).status_code == 403
        for step in ("freeze", "reveal", "abort"):
            assert client.post(f"/api/v1/draws/1/{step}", json={"reason": "x"} if step == "abort" else {},
                               headers=headers).status_code == 403
    assert client.post(url, json={"rule_index": 0}).status_code in (401, 403)
    student = bearer(stack, "student")
    assert client.get(f"/api/v1/courses/{slug}/assignments/6-1/entries", headers=student).status_code == 403
    assert client.get(url).status_code == 200  # the list is public


def test_cookie_session_needs_csrf(client: TestClient, stack: Stack) -> None:
    from tests.support.web import csrf_of

    slug = make_course({"code": "6-1", "rewards": [{"kind": "lottery", "k": 1}]})
    name = add_user(stack, "admin")
    token = csrf_of(client, "/login")
    client.post("/login", data={"name": name, "password": "correct horse", "csrf_token": token})
    url = draws_url(slug, "6-1")
    assert client.post(url, json={"rule_index": 0}).status_code == 403
    csrf = csrf_of(client, f"/courses/{slug}/assignments/6-1")
    assert client.post(url, json={"rule_index": 0}, headers={"x-csrf-token": csrf}).status_code == 201


# --- concurrency and audit -----------------------------------------------------------------


def test_two_admins_revealing_at_once_get_one_result(stack: Stack) -> None:
    from app.db import get_sessionmaker, session_scope
    from app.errors import CampError
    from app.models import AuditEntry, Draw, User
    from app.services import draws as service
    from app.services.courses import get_assignment

    slug = make_course({"code": "7-1", "rewards": [{"kind": "lottery", "k": 2}]})
    add_replies(slug, "7-1", replies_2023([Reply(s) for s in make_users(30)]))
    admins = make_users(2, role="admin", prefix="a")
    with session_scope() as session:
        actor = session.get(User, admins[0])
        draw_id = service.commit_draw(session, get_assignment(session, slug, "7-1"), actor, rule_index=0).id
    move_draw_to_2023(draw_id)
    with session_scope() as session:
        service.freeze_draw(session, draw_id, session.get(User, admins[0]), now=FREEZE_2023)

    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def reveal(admin_id: int, value: str) -> None:
        session = get_sessionmaker()()
        try:
            barrier.wait()
            draw = service.reveal_draw(session, draw_id, session.get(User, admin_id), beacon_signature=value)
            winners = draw.winners
            session.commit()
            outcomes.append(winners)
        except (CampError, ValueError) as exc:
            session.rollback()
            outcomes.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=reveal, args=(a, ROUND_123_SIGNATURE)) for a in admins]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    results = [o for o in outcomes if isinstance(o, list)]
    assert len(outcomes) == 2 and len(results) == 1, outcomes
    # PostgreSQL: the row lock makes the second see "revealed"; SQLite: its UPDATE matches nothing.
    loser = next(o for o in outcomes if not isinstance(o, list))
    assert getattr(loser, "code", None) in ("state.wrong_status", "conflict"), loser
    with session_scope() as session:
        stored = session.get(Draw, draw_id)
        assert stored is not None and stored.winners == results[0]
        reveals = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "draw.reveal", AuditEntry.subject == f"draw:{draw_id}")).all()
        assert len(reveals) == 1


def test_every_step_is_audited_and_an_edit_breaks_the_chain(
    client: TestClient, stack: Stack, admin: dict[str, str]
) -> None:
    from app.db import session_scope
    from app.models import AuditEntry

    slug = make_course({"code": "5-2", "rewards": [{"kind": "lottery", "k": 1}]})
    add_replies(slug, "5-2", replies_2023([Reply(s) for s in make_users(3)]))
    record = run_draw(client, admin, slug, "5-2")
    with session_scope() as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.subject == f"draw:{record['draw_id']}").order_by(AuditEntry.id)).all()
    assert actions == ["draw.commit", "draw.freeze", "draw.reveal"]
    ok = stack.camp("audit", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with session_scope() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "draw.reveal", AuditEntry.subject == f"draw:{record['draw_id']}")).one()
        original, edited = dict(entry.data), entry.id
        entry.data = {**original, "winners": [1]}
    broken = stack.camp("audit", "verify")
    assert broken.returncode == 1 and f"#{edited}" in broken.stdout + broken.stderr
    with session_scope() as session:  # put it back for the other tests on this stack
        entry = session.get(AuditEntry, edited)
        assert entry is not None
        entry.data = original
    assert stack.camp("audit", "verify").returncode == 0


def test_verify_script_is_served_and_linked(client: TestClient, stack: Stack, admin: dict[str, str]) -> None:
    script = client.get("/static/verify_draw.py")
    assert script.status_code == 200
    assert script.content == (PROJECT_ROOT / "app" / "static" / "verify_draw.py").read_bytes()
    slug = make_course({"code": "8", "rewards": [{"kind": "lottery", "k": 1}]})
    add_replies(slug, "8", replies_2023([Reply(s) for s in make_users(2)]))
    record = run_draw(client, admin, slug, "8")
    page = client.get(f"/draws/{record['draw_id']}")
    assert page.status_code == 200 and "/static/verify_draw.py" in page.text
    assert record["commitment"] in page.text and record["seed"] in page.text
    homework = client.get(f"/courses/{slug}/assignments/8")
    winner = record["winners"][0]
    assert f"#{winner['floor']} {winner['name']}" in homework.text
    assert f"/draws/{record['draw_id']}" in homework.text


# --- winners who withdrew after the reveal -------------------------------------------------


def replace(client: TestClient, headers: dict[str, str], draw_id: int, **body: object) -> httpx.Response:
    return client.post(f"/api/v1/draws/{draw_id}/replacements", json=body, headers=headers)


def freeze_on_time(client: TestClient, admin: dict[str, str], draw_id: int) -> dict[str, object]:
    backdate_draw(draw_id)
    frozen = client.post(f"/api/v1/draws/{draw_id}/freeze", headers=admin)
    assert frozen.status_code == 200, frozen.text
    return frozen.json()


def sneak_in(record: dict[str, object], old: dict[str, object], entry_id: int) -> dict[str, object]:
    """The replacement record with an old winner's line put back into its list, re-hashed."""
    import hashlib

    data = json.loads(json.dumps(record))
    line = next(x for x in str(old["frozen_list"]).split("\n") if x.startswith(f"{entry_id}\t"))
    data["frozen_list"] = f"{line}\n{data['frozen_list']}"
    data["list_hash"] = hashlib.sha256(data["frozen_list"].encode()).hexdigest()
    data["entry_count"] += 1
    return data


def test_a_winner_withdraws_after_the_reveal_and_a_replacement_draws_again(
    client: TestClient, stack: Stack, admin: dict[str, str], tmp_path: Path
) -> None:
    from app.db import session_scope
    from app.models import AuditEntry

    slug = make_course({"code": "9-2", "rewards": [{"kind": "lottery", "k": 3, "prize": "飞桨本"}]})
    ids = add_replies(slug, "9-2", replies_2023([Reply(s) for s in make_users(20)]))
    old = run_draw(client, admin, slug, "9-2")
    old_id, winners = old["draw_id"], [w["entry_id"] for w in old["winners"]]
    published = client.get(f"/api/v1/draws/{old_id}/record").content
    gone = winners[1]

    for role in ("student", "instructor"):
        assert replace(client, bearer(stack, role), old_id, withdrawn=[gone], reason="x").status_code == 403
    loser = next(i for i in ids if i not in winners)
    refused = replace(client, admin, old_id, withdrawn=[loser], reason="x")
    assert refused.status_code == 422 and refused.json() == {
        "detail": f"参与项 {loser} 不是抽奖 {old_id} 的中奖者。", "code": "replace.not_a_winner"}
    assert replace(client, admin, old_id, withdrawn=[gone]).json()["code"] == "replace.reason_required"
    assert replace(client, admin, old_id, reason="x").json()["code"] == "replace.withdrawn_required"
    plain = client.post(draws_url(slug, "9-2"), json={"rule_index": 0, "replaces_draw_id": old_id}, headers=admin)
    assert plain.status_code == 422 and plain.json()["code"] == "replace.withdrawn_required"

    created = replace(client, admin, old_id, withdrawn=[gone], reason="出国，无法领奖")
    assert created.status_code == 201, created.text
    new = created.json()
    new_id = new["draw_id"]
    assert (new["version"], new["status"], new["replaces_draw_id"], new["rule"]) == (
        3, "committed", old_id, {"kind": "lottery", "count": 1})
    assert new["withdrawal"] == {"draw_id": old_id, "key": old["key"], "withdrawn_entry_ids": [gone],
                                 "excluded_entry_ids": sorted(winners), "reason": "出国，无法领奖",
                                 "withdrawn_by": "staff"}
    assert new["beacon"]["round"] > old["beacon"]["round"]  # a new drand round
    assert new["prize"] == "飞桨本" and f"抽奖 {old_id} 的冻结名单去掉其全部中奖者" in new["eligibility"]
    again = replace(client, admin, old_id, withdrawn=[winners[0]], reason="也不要了")
    assert again.status_code == 409
    assert client.get(f"/api/v1/draws/{old_id}/record").content == published  # the old record stays

    preview = client.get(f"/api/v1/draws/{new_id}/entries", headers=admin).json()
    assert len(preview["entries"]) == 17 and not {e["entry_id"] for e in preview["entries"]} & set(winners)
    reasons = {x["submission_id"]: (x["reason"], x["message"]) for x in preview["excluded"]}
    assert reasons[gone] == ("withdrew", f"已在抽奖 {old_id} 中奖但放弃了奖品：出国，无法领奖")
    assert reasons[winners[0]] == ("prize_kept", f"已在抽奖 {old_id} 中奖并保留奖品")

    move_replacement_to_2023(new_id)
    freeze_in_2023(new_id, at=REPLACEMENT_FREEZE_2023)
    frozen = client.get(f"/api/v1/draws/{new_id}/record").json()
    assert frozen["entry_count"] == 17 and frozen["beacon"]["round"] == 657413
    no_value = client.post(f"/api/v1/draws/{new_id}/reveal", json={}, headers=admin)
    assert no_value.status_code == 422 and no_value.json()["code"] == "reveal.beacon_required"
    old_round = client.post(f"/api/v1/draws/{new_id}/reveal", json={"beacon_signature": ROUND_123_SIGNATURE},
                            headers=admin)
    assert old_round.status_code == 422 and old_round.json()["code"] == "reveal.beacon_invalid"
    revealed = client.post(f"/api/v1/draws/{new_id}/reveal", json={"beacon_signature": ROUND_657413_SIGNATURE},
                           headers=admin)
    assert revealed.status_code == 200, revealed.text
    record = revealed.json()
    assert len(record["winners"]) == 1 and record["winners"][0]["entry_id"] not in winners

    listed = {d["draw_id"]: d for d in client.get(draws_url(slug, "9-2")).json()}
    assert listed[old_id]["replaced_by_draw_id"] == new_id and listed[old_id]["withdrawn_entry_ids"] == [gone]
    assert listed[new_id]["withdrawn_entry_ids"] == []

    new_path, old_path = tmp_path / "new.json", tmp_path / "old.json"
    new_path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    old_path.write_bytes(published)
    cli = stack.camp("draw", "verify", str(new_path), "--replaces", str(old_path), "--lang", "en")
    assert cli.returncode == 0 and "OK   Replaced draw and its winners: OK" in cli.stdout, cli.stdout + cli.stderr
    script = subprocess.run([sys.executable, str(PROJECT_ROOT / "app" / "static" / "verify_draw.py"),
                             str(new_path), str(old_path)], capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "VERIFIED" in script.stdout, script.stdout
    assert verify_script(new_path).returncode == 0
    sneaked = tmp_path / "sneaked.json"
    sneaked.write_text(json.dumps(sneak_in(record, old, winners[0]), ensure_ascii=False), encoding="utf-8")
    assert verify_cli(stack, sneaked).returncode == 1
    caught = verify_script(sneaked)
    assert caught.returncode == 1 and f"entry {winners[0]} won draw {old_id}" in caught.stdout

    with session_scope() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.subject.in_([f"draw:{old_id}", f"draw:{new_id}"])).order_by(AuditEntry.id)).all()
        actions = [(e.subject, e.action) for e in entries]
        withdraw = next(e for e in entries if e.action == "draw.withdraw")
    assert actions[-4:] == [(f"draw:{new_id}", "draw.commit"), (f"draw:{old_id}", "draw.withdraw"),
                            (f"draw:{new_id}", "draw.freeze"), (f"draw:{new_id}", "draw.reveal")]
    assert (f"draw:{old_id}", "draw.withdraw") in actions and (f"draw:{new_id}", "draw.commit") in actions
    assert withdraw.data["withdrawn"] == [gone] and withdraw.data["replacement_draw_id"] == new_id
    assert stack.camp("audit", "verify").returncode == 0

    old_page = client.get(f"/draws/{old_id}").text
    assert "已放弃" in old_page and f'href="/draws/{new_id}"' in old_page and "出国，无法领奖" in old_page
    new_page = client.get(f"/draws/{new_id}").text
    gone_winner = next(w for w in old["winners"] if w["entry_id"] == gone)
    assert "放弃领奖的中奖者" in new_page and f"#{gone_winner['floor']} {gone_winner['name']}" in new_page
    assert f"draw-{old_id}.json" in new_page
    homework = client.get(f"/courses/{slug}/assignments/9-2").text
    assert f"#{gone_winner['floor']} {gone_winner['name']}（已放弃）" in homework


def test_top_score_replacement_takes_the_next_best(client: TestClient, stack: Stack, admin: dict[str, str]) -> None:
    slug = make_course({"code": "4-3", "rewards": [{"kind": "top_score", "n": 2, "by": "review"}]})
    students = make_users(5)
    ids = add_replies(slug, "4-3", [Reply(s, review_score=score) for s, score in zip(students, [70, 95, 80, 90, 60],
                                                                                        strict=True)])
    old = run_draw(client, admin, slug, "4-3")
    assert [w["entry_id"] for w in old["winners"]] == [ids[1], ids[3]]
    new = replace(client, admin, old["draw_id"], withdrawn=[ids[1]], reason="已获得其他奖项")
    assert new.status_code == 201 and new.json()["rule"] == {"kind": "top_score", "count": 1}
    freeze_on_time(client, admin, new.json()["draw_id"])
    revealed = client.post(f"/api/v1/draws/{new.json()['draw_id']}/reveal", json={}, headers=admin)
    assert revealed.status_code == 200, revealed.text  # no randomness: no public value needed
    assert [(w["entry_id"], w["score"]) for w in revealed.json()["winners"]] == [(ids[2], "80")]


def test_what_cannot_be_replaced(client: TestClient, stack: Stack, admin: dict[str, str]) -> None:
    slug = make_course({"code": "1-3", "rewards": [RULE_4_1, {"kind": "lottery", "k": 1}]})
    add_replies(slug, "1-3", [Reply(s) for s in make_users(5)])
    fixed = run_draw(client, admin, slug, "1-3")
    refused = replace(client, admin, fixed["draw_id"], withdrawn=[fixed["winners"][0]["entry_id"]], reason="x")
    assert refused.status_code == 409 and refused.json()["code"] == "replace.fixed_ranks"
    live = client.post(draws_url(slug, "1-3"), json={"rule_index": 1}, headers=admin).json()
    busy = replace(client, admin, live["draw_id"])
    assert busy.status_code == 409 and busy.json()["code"] == "replace.not_aborted"
    assert replace(client, admin, 10**9).status_code == 404


def test_an_aborted_replacement_is_drawn_again_with_its_withdrawal(
    client: TestClient, stack: Stack, admin: dict[str, str]
) -> None:
    slug = make_course({"code": "9-3", "rewards": [{"kind": "lottery", "k": 2}]})
    add_replies(slug, "9-3", replies_2023([Reply(s) for s in make_users(8)]))
    old = run_draw(client, admin, slug, "9-3")
    first = replace(client, admin, old["draw_id"], withdrawn=[w["entry_id"] for w in old["winners"]],
                    reason="都放弃了").json()
    client.post(f"/api/v1/draws/{first['draw_id']}/abort", json={"reason": "奖品写错了"}, headers=admin)
    withdrawn = replace(client, admin, first["draw_id"], withdrawn=[1], reason="x")
    assert withdrawn.status_code == 409 and withdrawn.json()["code"] == "replace.withdrawn_on_aborted"
    second = replace(client, admin, first["draw_id"], prize="新奖品")
    assert second.status_code == 201, second.text
    data = second.json()
    assert (data["replaces_draw_id"], data["withdrawal"], data["rule"], data["prize"]) == (
        first["draw_id"], first["withdrawal"], first["rule"], "新奖品")
    frozen = freeze_on_time(client, admin, data["draw_id"])
    assert frozen["entry_count"] == 6

    plain = client.post(draws_url(slug, "9-3"), json={"rule_index": 0}, headers=admin)
    assert plain.status_code == 409  # the revealed draw still holds rule 0


def test_two_admins_replacing_at_once_get_one_replacement(client: TestClient, stack: Stack,
                                                           admin: dict[str, str]) -> None:
    from app.db import get_sessionmaker, session_scope
    from app.errors import CampError
    from app.models import Draw, User
    from app.services import draws as service

    slug = make_course({"code": "9-4", "rewards": [{"kind": "lottery", "k": 2}]})
    add_replies(slug, "9-4", replies_2023([Reply(s) for s in make_users(10)]))
    old = run_draw(client, admin, slug, "9-4")
    winner = old["winners"][0]["entry_id"]
    admins = make_users(2, role="admin", prefix="a")
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def replace_now(admin_id: int) -> None:
        session = get_sessionmaker()()
        try:
            barrier.wait()
            draw = service.replace_draw(session, old["draw_id"], session.get(User, admin_id),
                                        withdrawn=[winner], reason=f"admin {admin_id}")
            draw_id = draw.id
            session.commit()
            outcomes.append(draw_id)
        except (CampError, ValueError) as exc:
            session.rollback()
            outcomes.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=replace_now, args=(a,)) for a in admins]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    created = [o for o in outcomes if isinstance(o, int)]
    assert len(outcomes) == 2 and len(created) == 1, outcomes
    loser = next(o for o in outcomes if not isinstance(o, int))
    assert getattr(loser, "status_code", None) == 409, loser
    with session_scope() as session:
        assert session.scalars(select(Draw.id).where(Draw.replaces_id == old["draw_id"])).all() == created


# --- signatures and the public log (record version 3) ------------------------------------


def test_records_are_signed_and_the_public_log_shows_a_cut(
    client: TestClient, stack: Stack, admin: dict[str, str], tmp_path: Path
) -> None:
    from app.db import session_scope
    from app.draws import verify_record
    from app.models import AuditEntry
    from app.services.audit import entry_hash

    slug = make_course({"code": "8-8", "rewards": [{"kind": "lottery", "k": 1}]})
    add_replies(slug, "8-8", replies_2023([Reply(s) for s in make_users(4)]))
    record = run_draw(client, admin, slug, "8-8")
    key = client.get("/.well-known/camp-draw-key").json()
    assert key["alg"] == "ed25519" and record["signature"]["public_key"] == key["public_key"]
    assert verify_record(record, trusted_key=key["public_key"]).ok
    forged = {**record, "audit_head": {"seq": record["audit_head"]["seq"] - 1, "hash": "ab" * 32}}
    assert verify_record(forged, trusted_key=key["public_key"]).failed == ("signature",)

    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    cli = stack.camp("draw", "verify", str(path), "--key", key["public_key"], "--lang", "en")
    assert cli.returncode == 0 and key["public_key"] in cli.stdout, cli.stdout + cli.stderr
    other = stack.camp("draw", "verify", str(path), "--key", "cd" * 32, "--lang", "en")
    assert other.returncode == 1

    def head_listed() -> bool:
        log = client.get("/api/v1/audit/draws").json()
        for entry in log["entries"]:  # every listed entry's hash can be recomputed
            assert entry["hash"] == entry_hash(entry["prev_hash"], entry["at"], entry["actor_id"],
                                               entry["action"], entry["subject"], entry["data"])
        return any(e["seq"] == record["audit_head"]["seq"] and e["hash"] == record["audit_head"]["hash"]
                   for e in log["entries"])

    assert head_listed()
    log = client.get("/api/v1/audit/draws").json()
    assert log["head"]["public_key"] == key["public_key"] and log["head"]["seq"] >= record["audit_head"]["seq"]
    actions = [e["action"] for e in log["entries"] if e["subject"] == f"draw:{record['draw_id']}"]
    assert actions == ["draw.commit", "draw.freeze", "draw.reveal"]

    with session_scope() as session:  # the operator cuts the last 3 entries of the log
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(3)).all()
        saved = [(e.id, e.at, e.actor_id, e.action, e.subject, e.data, e.prev_hash, e.hash) for e in last]
        for entry in last:
            session.delete(entry)
    try:
        assert stack.camp("audit", "verify").returncode == 0  # the chain alone still looks intact
        assert not head_listed()  # but the signed record's head is gone from the public log
    finally:
        with session_scope() as session:
            for row in reversed(saved):
                session.add(AuditEntry(id=row[0], at=row[1], actor_id=row[2], action=row[3], subject=row[4],
                                       data=row[5], prev_hash=row[6], hash=row[7]))
    assert head_listed() and stack.camp("audit", "verify").returncode == 0
