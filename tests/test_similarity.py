"""Similarity review and the suspicious-like report: staff decide, draws follow with reasons."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from tests.support.homework import Reply, add_replies, make_course, make_users
from tests.support.stacks import Stack
from tests.support.web import add_user, api_token, make_client, register

ESSAY = ("作业1-2：我认为监督学习可以用来预测通勤时间，假设是一个线性模型，参数是每段路的权重，"
         "优化目标是让预测时间和真实时间的均方误差最小。AI工程师有前景，因为需求远大于供给，")
COPY = ("作业1-2 我认为监督学习可以用来预测通勤时间，假设是一个线性模型，参数是每段路的权重，"
        "优化目标是让预测时间和真实时间的均方误差最小。AI工程师有前景，因为需求远大于供给！谢谢")
OTHER = ("作业1-2：牛顿第二定律类比到医疗领域，可以用病人的各项指标预测住院天数，模型是一个小型神经网络，"
         "参数通过反向传播学习，目标是最小化绝对误差。从经济学看，人才稀缺导致薪资高。")
TEMPLATE = "import numpy as np\n\n\ndef predict(images):\n    x = images.reshape(len(images), -1) / 255.0\n"
ORIGINAL = TEMPLATE + "".join(
    f"    w{i} = np.tanh(x @ np.ones((x.shape[1], {i + 3}))) * {i}\n    x = np.concatenate([x, w{i}], 1)\n"
    for i in range(12)) + "    return x.argmax(1) % 10\n"
RENAMED = ORIGINAL.replace("w", "layer_out").replace("x", "features") + "# my own work\n"
OWN = TEMPLATE + "".join(f"    if len(x) > {i}:\n        print('step', {i}, x.mean())\n" for i in range(30)) + \
    "    return np.zeros(len(x), dtype=int)\n"


def staff_headers(stack: Stack, role: str = "instructor") -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(stack, add_user(stack, role))}"}


def attach_code(submission_id: int, source: str) -> None:
    from app import storage
    from app.db import session_scope
    from app.models import Attachment

    data = source.encode()
    with session_scope() as session:
        session.execute(insert(Attachment), [{"submission_id": submission_id, "filename": "predict.py",
                                              "sha256": storage.put(data), "size": len(data), "kind": "code",
                                              "content_type": "text/x-python"}])


def set_text(ids_texts: dict[int, str]) -> None:
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        for sid, text in ids_texts.items():
            session.execute(update(Submission).where(Submission.id == sid).values(text=text))


def test_core_finds_reworded_chinese_and_renamed_code_only() -> None:
    from app.services.similarity_core import code_pairs, text_pairs

    assert [(p.first, p.second) for p in text_pairs({1: ESSAY, 2: OTHER, 3: COPY})] == [(1, 3)]
    assert text_pairs({1: "作业7-1：乘法1000,加法1000", 2: "作业7-1：乘法1000,加法1000"}) == []  # too short
    found = code_pairs({1: ORIGINAL, 2: OWN, 3: RENAMED}, examples=[TEMPLATE])
    assert [(p.first, p.second) for p in found] == [(1, 3)] and found[0].similarity >= 0.8
    assert code_pairs({1: TEMPLATE + "    return 1\n", 2: TEMPLATE + "    return 2\n"}, [TEMPLATE]) == []


def test_staff_confirm_a_copy_and_the_draw_excludes_it_with_its_reason(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1-2", "grading": {"kind": "reply_format"},
                        "rewards": [{"kind": "lottery", "k": 1}]})
    a, b, c = make_users(3)
    [staff_id] = make_users(1, role="instructor")
    first, other, copy, staff_copy = add_replies(slug, "1-2", [Reply(a), Reply(c), Reply(b), Reply(staff_id)])
    set_text({first: ESSAY, other: OTHER, copy: COPY, staff_copy: ESSAY})
    for sid, source in ((first, ORIGINAL), (other, OWN), (copy, RENAMED), (staff_copy, TEMPLATE)):
        attach_code(sid, source)
    staff = staff_headers(stack)
    base = f"/api/v1/courses/{slug}/assignments/1-2"

    run = client.post(f"{base}/similar/run", headers=staff)
    assert run.status_code == 200 and run.json() == {"compared_texts": 3, "compared_packages": 3, "new_pairs": 2}
    pairs = client.get(f"{base}/similar", headers=staff).json()
    assert {(p["kind"], p["first_id"], p["second_id"]) for p in pairs} == {("text", first, copy),
                                                                           ("code", first, copy)}
    assert client.post(f"{base}/similar/run", headers=staff).json()["new_pairs"] == 0  # no duplicates
    student = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}
    assert client.get(f"{base}/similar", headers=student).status_code == 403
    assert client.post(f"/api/v1/similar/{pairs[0]['id']}/confirm", json={}, headers=student).status_code == 403

    text_pair = next(p for p in pairs if p["kind"] == "text")
    code_pair = next(p for p in pairs if p["kind"] == "code")
    confirmed = client.post(f"/api/v1/similar/{text_pair['id']}/confirm", json={"note": "改了标点"}, headers=staff)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    again = client.post(f"/api/v1/similar/{text_pair['id']}/dismiss", json={}, headers=staff)
    assert again.status_code == 409 and again.json()["detail"]
    assert client.post(f"/api/v1/similar/{code_pair['id']}/dismiss", json={}, headers=staff).status_code == 200

    entries = client.get(f"{base}/entries", headers=staff).json()
    assert copy not in [e["entry_id"] for e in entries["entries"]]
    [out] = [x for x in entries["excluded"] if x["submission_id"] == copy]
    assert out["reason"] == "copied" and "#" in out["params"]["note"]
    assert first in [e["entry_id"] for e in entries["entries"]]  # the earlier reply keeps credit

    from app.db import session_scope
    from app.models import AuditEntry

    with session_scope() as session:
        actions = set(session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("similarity.%"))))
    assert {"similarity.run", "similarity.confirmed", "similarity.dismissed"} <= actions


def test_a_similarity_run_on_an_empty_homework_is_a_clear_error(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1-2", "grading": {"kind": "reply_format"}})
    refused = client.post(f"/api/v1/courses/{slug}/assignments/1-2/similar/run", headers=staff_headers(stack))
    assert refused.status_code == 422 and "1-2" in refused.json()["detail"]


def test_farmed_likes_are_reported_and_excluded_with_a_reason(client: TestClient, stack: Stack) -> None:
    """Accounts registered through the web form one after another like one reply: the staff
    report groups them; excluding them is audit-logged, refused twice, and named by the draw."""
    slug = make_course({"code": "1-2", "grading": {"kind": "reply_format"},
                        "rewards": [{"kind": "top_likes", "n": 1}]})
    [author] = make_users(1)
    [target] = add_replies(slug, "1-2", [Reply(author)])
    farm = []
    for _ in range(5):
        with make_client() as browser:  # one browser each, one address (the test client's)
            name = register(browser)
            csrf = browser.get(f"/courses/{slug}/assignments/1-2").text.split('name="csrf_token" value="')[1]
            liked = browser.post(f"/submissions/{target}/like", data={"csrf_token": csrf.split('"')[0]},
                                 follow_redirects=False)
            assert liked.status_code == 303
            farm.append(name)
    staff = staff_headers(stack)
    base = f"/api/v1/courses/{slug}/assignments/1-2"
    clusters = client.get(f"{base}/like-clusters", headers=staff).json()
    reasons = {c["reason"] for c in clusters if c["submission_id"] == target}
    assert {"same_address", "created_together"} <= reasons
    accounts = next(c for c in clusters if c["reason"] == "same_address")["accounts"]
    assert sorted(a["name"] for a in accounts) == sorted(farm)
    ids = [a["id"] for a in accounts]
    no_reason = client.post(f"{base}/like-exclusions", json={"user_ids": ids, "reason": " "}, headers=staff)
    assert no_reason.status_code == 422
    done = client.post(f"{base}/like-exclusions", json={"user_ids": ids, "reason": "同一地址连续注册"},
                       headers=staff)
    assert done.status_code == 200 and sorted(done.json()) == sorted(ids)
    twice = client.post(f"{base}/like-exclusions", json={"user_ids": ids[:1], "reason": "again"}, headers=staff)
    assert twice.status_code == 409 and accounts[0]["name"] in twice.json()["detail"]

    admin = staff_headers(stack, "admin")
    draw = client.post(f"{base}/draws", json={"rule_index": 0}, headers=admin)
    assert draw.status_code in (200, 201), draw.text
    record = client.get(f"/api/v1/draws/{draw.json()['draw_id']}/record").json()
    assert "同一地址连续注册" in record["eligibility"] and all(n in record["eligibility"] for n in farm)


def test_the_staff_page_shows_pairs_side_by_side_and_decides_them(stack: Stack) -> None:
    from tests.support.staff import log_in, post_form

    slug = make_course({"code": "1-2", "grading": {"kind": "reply_format"},
                        "rewards": [{"kind": "top_likes", "n": 1}]})
    a, b = make_users(2)
    first, copy = add_replies(slug, "1-2", [Reply(a), Reply(b)])
    set_text({first: ESSAY, copy: COPY})
    page_url = f"/courses/{slug}/assignments/1-2/integrity"
    with make_client() as browser:
        register(browser)
        assert browser.get(page_url).status_code == 403  # students never see the queue
    with make_client() as staff:
        log_in(staff, add_user(stack, "instructor"))
        compared = post_form(staff, page_url + "/compare", {}, token_from=page_url)
        assert compared.status_code == 303
        page = staff.get(page_url).text
        assert "相似回复" in page and "较早（保留成绩）" in page and "谢谢" in page and "需求远大于供给，" in page
        pair_id = page.split('data-pair-id="')[1].split('"')[0]
        decided = post_form(staff, f"/similar/{pair_id}/decide", {"action": "confirm", "note": "同一段话"},
                            token_from=page_url)
        assert decided.status_code == 303
        page = staff.get(page_url).text
        assert "没有待处理的相似回复" in page and "已确认 1 对" in page
        again = post_form(staff, f"/similar/{pair_id}/decide", {"action": "dismiss"}, token_from=page_url)
        assert again.status_code == 409 and "已被确认为抄袭" in again.text
        refused = post_form(staff, page_url + "/exclude-likers", {"reason": "x"}, token_from=page_url)
        assert refused.status_code == 422 and "请至少选择一个账号" in refused.text
        english = staff.get(page_url + "?lang=en").text
        assert "Similar replies" in english and "Suspicious likes" in english


def test_huge_numbers_are_refused_as_bad_input(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "1-2", "grading": {"kind": "reply_format"}})
    staff = staff_headers(stack)
    huge = "9" * 40
    for path in (f"/api/v1/similar/{huge}/confirm", f"/api/v1/similar/{2**31}/dismiss"):
        r = client.post(path, json={}, headers=staff)
        assert r.status_code == 404 and r.json()["code"], (path, r.text)
    assert client.post(f"/api/v1/submissions/{huge}/final", headers=staff).status_code == 404
    for ids in ([int(huge)], [2**63], [-1]):
        r = client.post(f"/api/v1/courses/{slug}/assignments/1-2/like-exclusions",
                        json={"user_ids": ids, "reason": "x"}, headers=staff)
        assert r.status_code == 422, (ids, r.text)
