"""Prize rigging replayed as a hostile student would try it (docs/abuse.md, "Tried as an
attacker"): deleting a reply after the deadline to move others' fixed-rank positions, editing a
reply after the staff reviewed it, marking more final picks than allowed from two tabs at once."""

from __future__ import annotations

import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.homework import Reply, add_replies, backdate_draw, make_course, now
from tests.support.stacks import Stack
from tests.support.thread import account, user_id

HOMEWORK = "/api/v1/courses/{slug}/assignments/{code}"


def _positions(client: TestClient, slug: str, staff: dict[str, str]) -> list[int]:
    r = client.get(HOMEWORK.format(slug=slug, code="1-1") + "/entries", headers=staff,
                   params={"rule_index": 0})
    assert r.status_code == 200, r.text
    return [e["entry_id"] for e in r.json()["entries"]]


def test_deleting_after_the_deadline_cannot_move_fixed_rank_positions(client: TestClient, stack: Stack) -> None:
    """Three on-time replies, prizes for the 1st and 3rd. After the deadline the second author
    deleted theirs so the fourth-placed friend moved up to 3rd: refused now, nothing changes."""
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"},
                        "rewards": [{"kind": "fixed_ranks", "ranks": "1,3"}]},
                       opens=now() - timedelta(days=7), due=now() - timedelta(minutes=30))
    people = [account(stack) for _ in range(4)]
    base = now() - timedelta(hours=2)
    ids = add_replies(slug, "1-1", [Reply(user_id(name), at=base + timedelta(minutes=i))
                                    for i, (name, _) in enumerate(people)])
    late = add_replies(slug, "1-1", [Reply(user_id(people[1][0]), at=now())])[0]
    _, staff = account(stack, "instructor")
    before = _positions(client, slug, staff)
    assert before == ids

    refused = client.delete(f"/api/v1/submissions/{ids[1]}", headers=people[1][1])
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert "截止" in refused.json()["detail"]
    assert _positions(client, slug, staff) == before
    assert client.get(f"/api/v1/submissions/{ids[1]}", headers=people[0][1]).json()["text"]
    # a late reply is never an entry: its author may still take it down
    assert client.delete(f"/api/v1/submissions/{late}", headers=people[1][1]).status_code == 204


def test_a_reviewed_reply_cannot_be_swapped_for_another_text(client: TestClient, stack: Stack) -> None:
    """Staff gave a reply 95 and "featured"; its author then replaced the text (an advert, a copy
    of someone else's answer) and kept the score that `top_score by: review` draws rank on."""
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"}})
    _, author = account(stack)
    _, staff = account(stack, "instructor")
    created = client.post(HOMEWORK.format(slug=slug, code="1-1") + "/submissions",
                          data={"text": "作业1-1：我的原创分析"}, headers=author)
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    reviewed = client.put(f"/api/v1/submissions/{sid}/review", json={"score": 95, "featured": True},
                          headers=staff)
    assert reviewed.status_code == 200, reviewed.text

    swapped = client.patch(f"/api/v1/submissions/{sid}", json={"text": "作业1-1：加群领资料"}, headers=author)
    assert swapped.status_code == 409 and "新的回复" in swapped.json()["detail"]
    mine = client.get(f"/api/v1/submissions/{sid}", headers=author).json()
    assert mine["text"] == "作业1-1：我的原创分析" and mine["review"]["score"] == 95
    page = client.get(f"/courses/{slug}/assignments/1-1", headers=author).text
    assert f'href="/submissions/{sid}/edit"' not in page
    assert client.get(f"/submissions/{sid}/edit", headers=author).status_code == 409


def test_two_tabs_cannot_mark_more_final_picks_than_allowed(pg_stack: Stack) -> None:
    """K = 1. Tab A marks one submission and has not committed yet; tab B marks another. B's
    count of marked rows could not see A's uncommitted mark and both were stored."""
    from app.db import session_scope
    from app.errors import Conflict
    from app.models import Submission, User
    from app.services.final_picks import set_final

    with pg_stack.active():
        slug = make_course({"code": "6-2", "grading": {"kind": "mnist", "public_fraction": 0.5}})
        _set_final_limit(slug, 1)
        name, _ = account(pg_stack)
        first, second = add_replies(slug, "6-2", [Reply(user_id(name)), Reply(user_id(name))])
        outcome: list[str] = []

        def tab_b() -> None:
            try:
                with session_scope() as session:
                    set_final(session, session.get(Submission, second), session.get(User, user_id(name)), True)
                outcome.append("marked")
            except Conflict:
                outcome.append("refused")

        with session_scope() as session:  # tab A, still open while tab B runs
            set_final(session, session.get(Submission, first), session.get(User, user_id(name)), True)
            other = threading.Thread(target=tab_b)
            other.start()
            _until_done_or_waiting(other)
        other.join()
        with session_scope() as session:
            marked = session.scalars(select(Submission.id).where(
                Submission.id.in_([first, second]), Submission.final_pick.is_(True))).all()
        assert outcome == ["refused"] and marked == [first]


def _set_final_limit(slug: str, k: int) -> None:
    from app.db import session_scope
    from app.models import Course

    with session_scope() as session:
        course = session.scalar(select(Course).where(Course.slug == slug))
        assert course is not None
        course.settings = {**(course.settings or {}), "final_picks": k}


def _until_done_or_waiting(thread: threading.Thread) -> None:
    """Return once `thread` finished or PostgreSQL shows a session waiting for a row lock."""
    from sqlalchemy import text

    from app.db import session_scope

    while thread.is_alive():
        with session_scope() as session:
            waiting = session.scalar(text("SELECT count(*) FROM pg_stat_activity "
                                          "WHERE datname = current_database() AND wait_event_type = 'Lock'"))
        if waiting:
            return
        thread.join(0.05)


ANSWER = ("作业8：Gradient descent moves the parameters against the gradient of the loss; with momentum "
          "the update keeps a running average of past gradients, so oscillations across a narrow valley "
          "cancel and progress along its floor speeds up. That is why Adam converged faster here.")
LOOK_ALIKE = str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у",
                            "i": "і", "A": "Α", "G": "Ԍ"})  # Cyrillic and Greek twins


def test_a_copy_disguised_with_look_alike_letters_is_still_found() -> None:
    """The copy reads exactly like the original, but every a/e/o/p/c/i is Cyrillic: it shared
    no 5-character shingle with the original and the similarity review never queued the pair."""
    from app.services.similarity_core import text_pairs

    disguised = ANSWER.translate(LOOK_ALIKE)
    assert disguised != ANSWER
    [pair] = text_pairs({1: ANSWER, 2: disguised})
    assert (pair.first, pair.second) == (1, 2) and pair.similarity >= 0.95
    # zero-width and soft-hyphen padding were already dropped with the punctuation
    padded = "\u200b".join(ANSWER[:60]) + "\u00ad" + ANSWER[60:]
    assert text_pairs({1: ANSWER, 2: padded})
    # different Chinese answers stay apart (Chinese characters are never folded)
    assert text_pairs({1: "作业8：" + "梯度下降法沿损失的负梯度方向更新参数" * 3,
                       2: "作业8：" + "随机森林通过多棵决策树的投票来降低方差" * 3}) == []


def test_a_placeholder_edited_into_an_answer_does_not_keep_its_early_place(client: TestClient,
                                                                            stack: Stack) -> None:
    """Floor squatting: a student posted a placeholder first (not in the reply format, so not an
    entry), an honest student then finished, and the squatter edited the placeholder into an
    answer, taking first place in a "first finisher wins" race."""
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import Submission, User
    from app.services.edits import edit_text

    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"},
                        "rewards": [{"kind": "fixed_ranks", "ranks": "1"}]})
    (squatter, _), (honest, _), (third, _) = (account(stack) for _ in range(3))
    base = now() - timedelta(hours=1)
    held, done, early = add_replies(slug, "1-1", [
        Reply(user_id(squatter), verdict="format_error", score=0.0, at=base),
        Reply(user_id(honest), at=base + timedelta(minutes=1)),
        # clocks of two web processes disagree: floor order still decides among unedited replies
        Reply(user_id(third), at=base + timedelta(seconds=30)),
    ])
    with session_scope() as session:
        edit_text(session, session.get(Submission, held), session.get(User, user_id(squatter)),  # type: ignore[arg-type]
                  "作业1-1：已跑通", now=base + timedelta(minutes=10))
    with session_scope() as session:  # graded again: now a valid answer
        session.execute(update(Submission).where(Submission.id == held).values(
            status="scored", verdict="accepted", score=1.0))
    _, staff = account(stack, "instructor")
    assert _positions(client, slug, staff) == [done, early, held]


def test_a_winner_who_gave_the_prize_up_cannot_claim_it_as_well(client: TestClient, stack: Stack) -> None:
    """A lottery winner withdrew (a replacement draw picked someone else), then filled in the
    claim form of the original draw anyway: the prize would have gone out twice."""
    from tests.support.homework import replies_2023
    from tests.support.notify import run_lottery
    from tests.support.staff import log_in
    from tests.support.web import add_user

    slug = make_course({"code": "1", "grading": {"kind": "reply_format"},
                        "rewards": [{"kind": "lottery", "k": 1}]})
    winner, other = add_user(stack), add_user(stack)
    [entry, _] = add_replies(slug, "1", replies_2023([Reply(user_id(winner)), Reply(user_id(other))]))
    draw_id = run_lottery(stack, slug, "1")
    _, admin = account(stack, "admin")
    record = client.get(f"/api/v1/draws/{draw_id}/record").json()
    won = [w["entry_id"] for w in record["winners"]]
    gone_entry, gone_name = (entry, winner) if entry in won else (won[0], other)
    log_in(client, gone_name)
    assert client.get(f"/prizes/{draw_id}/claim").status_code == 200
    replaced = client.post(f"/api/v1/draws/{draw_id}/replacements", headers=admin,
                           json={"withdrawn": [gone_entry], "reason": "放弃领奖"})
    assert replaced.status_code == 201, replaced.text
    page = client.get(f"/prizes/{draw_id}/claim")
    assert page.status_code == 403 and "补抽" in page.text


ESSAY = ("作业1-2：我认为监督学习可以用来预测通勤时间，假设是一个线性模型，参数是每段路的权重，"
         "优化目标是让预测时间和真实时间的均方误差最小。AI工程师有前景，因为需求远大于供给。")


def _mark_accepted(*submission_ids: int) -> None:
    """What the worker stores for a reply in the format (the grading itself is not the point)."""
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id.in_(submission_ids)).values(
            status="scored", verdict="accepted", score=1.0))


def test_a_placeholder_edited_into_a_copy_does_not_pass_for_the_original(client: TestClient,
                                                                          stack: Stack) -> None:
    """An open essay homework with a lottery. The copier holds an early floor with a
    placeholder, waits for an honest classmate's essay (visible: the homework is open), then
    edits the placeholder into that essay. The similarity review put the copier's floor on the
    left as "earlier (keeps credit)", and confirming the pair excluded the honest author as the
    copy. The earlier text is the one written first: a reply runs from its last edit."""
    slug = make_course({"code": "1-2", "grading": {"kind": "reply_format", "answers": "open"},
                        "rewards": [{"kind": "lottery", "k": 1}]})
    base = HOMEWORK.format(slug=slug, code="1-2")
    (_, copier), (_, honest) = account(stack), account(stack)
    _, staff = account(stack, "instructor")
    held = client.post(base + "/submissions", data={"text": "作业1-2：占楼，答案稍后补上"}, headers=copier)
    original = client.post(base + "/submissions", data={"text": ESSAY}, headers=honest)
    assert held.status_code == original.status_code == 201, (held.text, original.text)
    held_id, original_id = held.json()["id"], original.json()["id"]
    assert held.json()["floor"] < original.json()["floor"]
    seen = client.get(f"/api/v1/submissions/{original_id}", headers=copier).json()["text"]
    edited = client.patch(f"/api/v1/submissions/{held_id}", headers=copier,
                          json={"text": seen.replace("。", "！") + "谢谢老师"})
    assert edited.status_code == 200, edited.text
    _mark_accepted(held_id, original_id)

    run = client.post(base + "/similar/run", headers=staff)
    assert run.status_code == 200 and run.json()["new_pairs"] == 1, run.text
    [pair] = client.get(base + "/similar", headers=staff).json()
    assert (pair["first_id"], pair["second_id"]) == (original_id, held_id)  # the honest essay keeps credit
    page = client.get(f"/courses/{slug}/assignments/1-2/integrity", headers=staff).text
    section = page.split(f'id="pair-{pair["id"]}"')[1].split("</section>")[0]
    assert section.index(ESSAY[6:30]) < section.index("已编辑")  # the edited copy on the right, marked
    confirmed = client.post(f"/api/v1/similar/{pair['id']}/confirm", json={}, headers=staff)
    assert confirmed.status_code == 200, confirmed.text
    entries = client.get(base + "/entries", headers=staff, params={"rule_index": 0}).json()
    assert [e["entry_id"] for e in entries["entries"]] == [original_id]
    assert [(x["submission_id"], x["reason"]) for x in entries["excluded"]] == [(held_id, "copied")]


def test_a_dismissed_pair_comes_back_when_a_reply_is_edited_into_a_copy(client: TestClient,
                                                                         stack: Stack) -> None:
    """Two replies alike enough to be queued (both quote the same material) were looked at and
    dismissed; one author then edited theirs into a copy of the other. A decided pair stayed
    decided, so comparing again found nothing new and the copy kept its lottery ticket."""
    slug = make_course({"code": "1-2", "grading": {"kind": "reply_format", "answers": "open"},
                        "rewards": [{"kind": "lottery", "k": 1}]})
    base = HOMEWORK.format(slug=slug, code="1-2")
    (_, honest), (_, later) = account(stack), account(stack)
    _, staff = account(stack, "instructor")
    original = client.post(base + "/submissions", data={"text": ESSAY}, headers=honest).json()["id"]
    quoted = f"作业1-2：引用1楼：“{ESSAY[6:]}”我不同意：模型太简单。"
    mine = client.post(base + "/submissions", headers=later, data={"text": quoted})
    assert mine.status_code == 201, mine.text
    second = mine.json()["id"]
    _mark_accepted(original, second)
    assert client.post(base + "/similar/run", headers=staff).json()["new_pairs"] == 1
    [pair] = client.get(base + "/similar", headers=staff).json()
    assert client.post(f"/api/v1/similar/{pair['id']}/dismiss", json={"note": "引用教材"},
                       headers=staff).status_code == 200

    assert client.patch(f"/api/v1/submissions/{second}", json={"text": ESSAY + "！"},
                        headers=later).status_code == 200
    _mark_accepted(second)
    again = client.post(base + "/similar/run", headers=staff)
    assert again.status_code == 200 and again.json()["new_pairs"] == 1, again.text
    [back] = client.get(base + "/similar", headers=staff).json()
    assert (back["first_id"], back["second_id"]) == (original, second) and back["similarity"] > 0.9
    assert client.post(f"/api/v1/similar/{back['id']}/confirm", json={}, headers=staff).status_code == 200
    entries = client.get(base + "/entries", headers=staff, params={"rule_index": 0}).json()
    assert [(x["submission_id"], x["reason"]) for x in entries["excluded"]] == [(second, "copied")]


def test_an_admin_cannot_run_a_second_draw_beside_a_live_one_and_reveal_the_better(client: TestClient,
                                                                                    stack: Stack) -> None:
    """Withholding: the admin commits the homework's lottery (rule 0) and, through the API, an
    explicit rule of the same kind for the same prize, with another freeze time. Each names its
    own drand round; once both are published the admin (who holds both seeds) knows both
    results, reveals the one a friend wins and leaves the other frozen for good (a lottery cannot
    be aborted after its round). Only a rule's own draw was checked for a live one. Now a draw
    of a kind is refused while another draw of that kind of the homework, one of them explicit,
    is committed or frozen; an aborted or revealed one does not block."""
    slug = make_course({"code": "9-1", "grading": {"kind": "reply_format", "answers": "open"},
                        "rewards": [{"kind": "lottery", "k": 1, "prize": "显卡"},
                                    {"kind": "fixed_ranks", "ranks": "1"}]})
    add_replies(slug, "9-1", [Reply(user_id(account(stack)[0])) for _ in range(4)])
    _, admin = account(stack, "admin")
    url = HOMEWORK.format(slug=slug, code="9-1") + "/draws"
    later = (now() + timedelta(days=7, hours=1)).isoformat()
    first = client.post(url, json={"rule_index": 0}, headers=admin)
    assert first.status_code == 201, first.text

    twin = client.post(url, json={"rule": {"kind": "lottery", "count": 1}, "prize": "显卡", "freeze_at": later},
                       headers=admin)
    assert twin.status_code == 409, twin.text
    assert str(first.json()["draw_id"]) in twin.json()["detail"] and "抽奖" in twin.json()["detail"]
    english = client.post(url, json={"rule": {"kind": "lottery", "count": 2}}, headers={**admin, "Accept-Language": "en"})
    assert english.status_code == 409 and "lottery" in english.json()["detail"]
    # another kind, and the homework's other rule, still run beside it
    assert client.post(url, json={"rule_index": 1}, headers=admin).status_code == 201
    assert client.post(url, json={"rule": {"kind": "top_likes", "count": 1}}, headers=admin).status_code == 201
    # an explicit draw holds its kind against the homework's own rule as well
    again = client.post(url, json={"rule": {"kind": "top_likes", "count": 3}}, headers=admin)
    assert again.status_code == 409

    aborted = client.post(f"/api/v1/draws/{first.json()['draw_id']}/abort", json={"reason": "奖品改了"},
                          headers=admin)
    assert aborted.status_code == 200, aborted.text
    assert client.post(url, json={"rule": {"kind": "lottery", "count": 1}, "prize": "显卡"},
                       headers=admin).status_code == 201
    assert client.post(url, json={"rule_index": 0}, headers=admin).status_code == 409  # the explicit one holds it


def _old_accounts(stack: Stack, slug: str, n: int) -> list[tuple[int, dict[str, str]]]:
    """Accounts made before the homework opened, each with an accepted reply in the course:
    what a patient like farmer prepares (they pass the course's liker rules)."""
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import User

    made = [account(stack) for _ in range(n)]
    ids = [user_id(name) for name, _ in made]
    with session_scope() as session:
        session.execute(update(User).where(User.id.in_(ids)).values(created_at=now() - timedelta(days=30)))
    add_replies(slug, "1-1", [Reply(uid) for uid in ids])
    return [(uid, auth) for uid, (_, auth) in zip(ids, made, strict=True)]


def test_likers_excluded_after_the_commit_are_not_silently_counted(client: TestClient, stack: Stack) -> None:
    """A `top_likes` draw is committed before the deadline, as it must be. Then five prepared
    accounts like the farmer's reply; the staff find them in the suspicious-like report and
    exclude them (200, audit-logged, the page said their likes no longer count). But the draw
    had taken the exclusions at its commit: the freeze counted the farmed likes and the farmer
    won. Now the exclusion is refused while a `top_likes` draw of the homework is running, with
    the draw's number: abort it (publicly), exclude, and draw again, naming the accounts."""
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"}},
                       {"code": "8", "grading": {"kind": "reply_format", "answers": "open"},
                        "rewards": [{"kind": "top_likes", "n": 1, "prize": "定制T恤"}]})
    honest_likers, farm = _old_accounts(stack, slug, 3), _old_accounts(stack, slug, 5)
    (honest_name, _), (farmer_name, _) = account(stack), account(stack)
    honest, farmer = add_replies(slug, "8", [Reply(user_id(honest_name)), Reply(user_id(farmer_name))])
    for _, auth in honest_likers:
        assert client.post(f"/api/v1/submissions/{honest}/like", headers=auth).status_code == 200
    _, admin = account(stack, "admin")
    base = HOMEWORK.format(slug=slug, code="8")
    first = client.post(base + "/draws", json={"rule_index": 0}, headers=admin)
    assert first.status_code == 201, first.text
    draw_id = first.json()["draw_id"]

    for _, auth in farm:
        assert client.post(f"/api/v1/submissions/{farmer}/like", headers=auth).status_code == 200
    _, staff = account(stack, "instructor")
    [cluster] = [c for c in client.get(base + "/like-clusters", headers=staff).json()
                 if c["submission_id"] == farmer and c["reason"] == "created_together"]
    farm_ids = sorted(a["id"] for a in cluster["accounts"])
    assert farm_ids == sorted(uid for uid, _ in farm)
    refused = client.post(base + "/like-exclusions", json={"user_ids": farm_ids, "reason": "同一时间注册刷赞"},
                          headers=staff)
    assert refused.status_code == 409, refused.text
    assert f"{draw_id}" in refused.json()["detail"] and "中止" in refused.json()["detail"]
    english = client.post(base + "/like-exclusions", json={"user_ids": farm_ids, "reason": "farm"},
                          headers={**staff, "Accept-Language": "en"})
    assert english.status_code == 409 and "abort" in english.json()["detail"]
    page = client.get(f"/courses/{slug}/assignments/8/integrity", headers=staff)
    assert f"/draws/{draw_id}" in page.text  # the page says which draw holds the likes

    assert client.post(f"/api/v1/draws/{draw_id}/abort", json={"reason": "排除刷赞账号后重抽"},
                       headers=admin).status_code == 200
    done = client.post(base + "/like-exclusions", json={"user_ids": farm_ids, "reason": "同一时间注册刷赞"},
                       headers=staff)
    assert done.status_code == 200, done.text
    again = client.post(base + "/draws", json={"rule_index": 0, "replaces_draw_id": draw_id}, headers=admin)
    assert again.status_code == 201, again.text
    backdate_draw(again.json()["draw_id"])
    frozen = client.post(f"/api/v1/draws/{again.json()['draw_id']}/freeze", headers=admin)
    assert frozen.status_code == 200, frozen.text
    revealed = client.post(f"/api/v1/draws/{again.json()['draw_id']}/reveal", json={}, headers=admin).json()
    assert [(w["entry_id"], w["likes"]) for w in revealed["winners"]] == [(honest, 3)]
    assert "同一时间注册刷赞" in revealed["eligibility"]


# ESSAY in Traditional characters (what any word processor's "简转繁" button writes); the Taiwan
# wording (参数 → 引數, 优化 → 最佳化, 真实 → 真實) as a converter's phrase mode writes it
TRADITIONAL = ("作业1-2：我認為監督學習可以用來預測通勤時間，假設是一個線性模型，引數是每段路的權重，"
               "最佳化目標是讓預測時間和真實時間的均方誤差最小。AI工程師有前景，因為需求遠大於供給。")


def test_a_copy_in_traditional_characters_is_still_found(client: TestClient, stack: Stack) -> None:
    """The copy is the original essay converted to Traditional characters: it reads the same to
    any Chinese reader, but nearly every 5-character shingle holds a converted character, so the
    similarity review found nothing. Texts are compared in Simplified characters now."""
    slug = make_course({"code": "1-2", "grading": {"kind": "reply_format", "answers": "open"},
                        "rewards": [{"kind": "lottery", "k": 1}]})
    base = HOMEWORK.format(slug=slug, code="1-2")
    (_, honest), (_, copier), (_, other) = account(stack), account(stack), account(stack)
    _, staff = account(stack, "instructor")
    original = client.post(base + "/submissions", data={"text": ESSAY}, headers=honest).json()["id"]
    copy = client.post(base + "/submissions", data={"text": TRADITIONAL}, headers=copier)
    assert copy.status_code == 201, copy.text
    # a different answer written in Traditional characters stays apart
    own = client.post(base + "/submissions", headers=other,
                      data={"text": "作业1-2：隨機森林通過多棵決策樹的投票來降低方差，我用它預測房價，"
                                    "特徵包括面積、樓層和學區，交叉驗證的誤差比線性回歸小很多。"})
    assert own.status_code == 201, own.text
    _mark_accepted(original, copy.json()["id"], own.json()["id"])

    run = client.post(base + "/similar/run", headers=staff)
    assert run.status_code == 200 and run.json()["new_pairs"] == 1, run.text
    [pair] = client.get(base + "/similar", headers=staff).json()
    assert (pair["first_id"], pair["second_id"]) == (original, copy.json()["id"]) and pair["similarity"] >= 0.7


def test_farm_likes_taken_back_before_the_review_still_show_in_the_report(client: TestClient,
                                                                           stack: Stack) -> None:
    """The farm likes, then takes the likes back while the staff look at the suspicious-like
    report (it listed standing likes only: nothing to see), and likes again once the draw is
    committed with no exclusions. The report now groups every account that liked a reply at any
    time, so the staff exclude the farm before the commit and its later likes do not count."""
    slug = make_course({"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"}},
                       {"code": "8", "grading": {"kind": "reply_format", "answers": "open"},
                        "rewards": [{"kind": "top_likes", "n": 1}]})
    honest_likers, farm = _old_accounts(stack, slug, 2), _old_accounts(stack, slug, 5)
    (honest_name, _), (farmer_name, _) = account(stack), account(stack)
    honest, farmer = add_replies(slug, "8", [Reply(user_id(honest_name)), Reply(user_id(farmer_name))])
    for _, auth in honest_likers:
        assert client.post(f"/api/v1/submissions/{honest}/like", headers=auth).status_code == 200
    for _, auth in farm:
        assert client.post(f"/api/v1/submissions/{farmer}/like", headers=auth).status_code == 200
        assert client.delete(f"/api/v1/submissions/{farmer}/like", headers=auth).status_code == 200
    base = HOMEWORK.format(slug=slug, code="8")
    _, staff = account(stack, "instructor")
    clusters = [c for c in client.get(base + "/like-clusters", headers=staff).json()
                if c["submission_id"] == farmer and c["reason"] == "created_together"]
    assert [sorted(a["id"] for a in c["accounts"]) for c in clusters] == [sorted(uid for uid, _ in farm)]
    assert client.post(base + "/like-exclusions", headers=staff, json={
        "user_ids": [uid for uid, _ in farm], "reason": "点赞又取消"}).status_code == 200

    _, admin = account(stack, "admin")
    draw = client.post(base + "/draws", json={"rule_index": 0}, headers=admin).json()["draw_id"]
    for _, auth in farm:
        assert client.post(f"/api/v1/submissions/{farmer}/like", headers=auth).status_code == 200
    backdate_draw(draw)
    assert client.post(f"/api/v1/draws/{draw}/freeze", headers=admin).status_code == 200
    revealed = client.post(f"/api/v1/draws/{draw}/reveal", json={}, headers=admin).json()
    assert [(w["entry_id"], w["likes"]) for w in revealed["winners"]] == [(honest, 2)]
