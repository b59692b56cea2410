"""The admin's form flow commit → freeze → reveal in the browser (cookie session + CSRF), the
public draw page, and winners announced on the homework page in the seed's style."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support.homework import (
    ROUND_123_SIGNATURE,
    Reply,
    add_replies,
    freeze_in_2023,
    make_course,
    make_users,
    move_draw_to_2023,
    replies_2023,
)
from tests.support.stacks import Stack
from tests.support.web import add_user, csrf_of


def log_in(client: TestClient, name: str) -> None:
    token = csrf_of(client, "/login")
    response = client.post("/login", data={"name": name, "password": "correct horse", "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def test_admin_runs_a_lottery_with_forms(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "7-1", "rewards": [
        {"kind": "lottery", "k": 2, "text": "抽取2人", "prize": "飞桨定制本"}]})
    add_replies(slug, "7-1", replies_2023([Reply(s) for s in make_users(6)]))
    admin_name = add_user(stack, "admin")
    log_in(client, admin_name)
    base = f"/courses/{slug}/assignments/7-1"

    listing = client.get(f"{base}/draws")
    assert listing.status_code == 200 and "发起承诺" in listing.text and "抽取2人" in listing.text
    csrf = csrf_of(client, f"{base}/draws")
    committed = client.post(f"{base}/draws", data={"rule_index": "0", "freeze_at": "", "prize": "",
                                                  "csrf_token": csrf}, follow_redirects=False)
    assert committed.status_code == 303, committed.text
    draw_url = committed.headers["location"]
    draw_id = int(draw_url.rsplit("/", 1)[1])
    page = client.get(draw_url)
    assert "冻结名单" in page.text and "揭晓前保密" in page.text and "飞桨定制本" in page.text

    refused = client.post(f"{draw_url}/freeze", data={"csrf_token": csrf})
    assert refused.status_code == 422 and "必须说明原因" in refused.text

    move_draw_to_2023(draw_id)  # committed in 2023: its drand round 123 is published already
    assert "drand quicknet 第 123 轮" in client.get(draw_url).text
    too_late = client.post(f"{draw_url}/freeze", data={"csrf_token": csrf})  # now: after round 123
    assert too_late.status_code == 409 and "第 123 轮已于" in too_late.text
    freeze_in_2023(draw_id, admin_name)
    record = client.get(f"/api/v1/draws/{draw_id}/record").json()
    assert record["status"] == "frozen" and record["list_hash"] in client.get(draw_url).text
    assert 'name="beacon_signature"' in client.get(draw_url).text

    no_value = client.post(f"{draw_url}/reveal", data={"csrf_token": csrf})
    assert no_value.status_code == 422 and "第 123 轮的签名" in no_value.text
    chosen = client.post(f"{draw_url}/reveal", data={"csrf_token": csrf, "beacon_signature": "01 02 03"})
    assert chosen.status_code == 422 and "不是 drand quicknet 第 123 轮的签名" in chosen.text
    revealed = client.post(f"{draw_url}/reveal", data={"csrf_token": csrf, "beacon_signature": ROUND_123_SIGNATURE},
                           follow_redirects=False)
    assert revealed.status_code == 303
    record = client.get(f"/api/v1/draws/{draw_id}/record").json()
    line = "、".join(f"#{w['floor']} {w['name']}" for w in record["winners"])
    assert f"获奖同学：{line}" in client.get(draw_url).text
    homework = client.get(base)
    assert f"获奖同学：{line}" in homework.text and f'href="/draws/{draw_id}"' in homework.text
    english = client.get(f"{base}?lang=en")
    assert "Winners: " + ", ".join(f"#{w['floor']} {w['name']}" for w in record["winners"]) in english.text
    assert "/draws/" + str(draw_id) + "/reveal" not in client.get(draw_url).text  # no more steps


def test_students_see_the_record_but_no_controls(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "8", "rewards": [{"kind": "lottery", "k": 1}]})
    add_replies(slug, "8", [Reply(s) for s in make_users(2)])
    log_in(client, add_user(stack, "admin"))
    csrf = csrf_of(client, f"/courses/{slug}/assignments/8/draws")
    draw_url = client.post(f"/courses/{slug}/assignments/8/draws", data={"rule_index": "0", "csrf_token": csrf},
                           follow_redirects=False).headers["location"]
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.clear()

    log_in(client, add_user(stack, "student"))
    page = client.get(draw_url)
    assert page.status_code == 200 and "承诺值" in page.text
    assert "/freeze" not in page.text and "仅助教可见" not in page.text
    assert not re.search(r'action="[^"]*/draws"', client.get(f"/courses/{slug}/assignments/8/draws").text)
    csrf = csrf_of(client, draw_url)
    assert client.post(f"{draw_url}/freeze", data={"csrf_token": csrf, "early_freeze_reason": "x"}).status_code == 403


def test_admin_replaces_a_winner_who_withdrew_with_the_form(client: TestClient, stack: Stack) -> None:
    slug = make_course({"code": "7-3", "rewards": [{"kind": "lottery", "k": 2, "prize": "飞桨定制本"}]})
    add_replies(slug, "7-3", replies_2023([Reply(s) for s in make_users(6)]))
    admin_name = add_user(stack, "admin")
    log_in(client, admin_name)
    base = f"/courses/{slug}/assignments/7-3"
    csrf = csrf_of(client, f"{base}/draws")
    draw_url = client.post(f"{base}/draws", data={"rule_index": "0", "csrf_token": csrf},
                           follow_redirects=False).headers["location"]
    draw_id = int(draw_url.rsplit("/", 1)[1])
    move_draw_to_2023(draw_id)
    freeze_in_2023(draw_id, admin_name)
    client.post(f"{draw_url}/reveal", data={"csrf_token": csrf, "beacon_signature": ROUND_123_SIGNATURE})
    old = client.get(f"/api/v1/draws/{draw_id}/record").json()
    page = client.get(draw_url).text
    assert "替换放弃领奖的中奖者" in page and f'action="{draw_url}/replacements"' in page

    gone = old["winners"][0]
    blank = client.post(f"{draw_url}/replacements", data={"csrf_token": csrf, "withdrawn": str(gone["entry_id"])})
    assert blank.status_code == 422 and "请说明中奖者放弃领奖的原因" in blank.text
    done = client.post(f"{draw_url}/replacements", follow_redirects=False, data={
        "csrf_token": csrf, "withdrawn": str(gone["entry_id"]), "reason": "联系不上", "freeze_at": ""})
    assert done.status_code == 303, done.text
    new_url = done.headers["location"]
    new = client.get(f"/api/v1/draws/{new_url.rsplit('/', 1)[1]}/record").json()
    assert new["withdrawal"]["withdrawn_entry_ids"] == [gone["entry_id"]] and new["rule"]["count"] == 1
    new_page = client.get(new_url).text
    assert f"#{gone['floor']} {gone['name']}" in new_page and "联系不上" in new_page
    old_page = client.get(draw_url).text
    assert f'href="{new_url}"' in old_page and "已放弃" in old_page
    assert f'action="{draw_url}/replacements"' not in old_page  # replaced once
    listing = client.get(f"{base}/draws?lang=en").text
    assert f"#{gone['floor']} {gone['name']} (withdrew)" in listing

    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.clear()
    log_in(client, add_user(stack, "student"))
    assert "/replacements" not in client.get(new_url).text
    csrf = csrf_of(client, new_url)
    assert client.post(f"{new_url}/replacements", data={"csrf_token": csrf}).status_code == 403


def test_a_winner_gives_up_the_prize_from_their_own_account(client: TestClient, stack: Stack) -> None:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import User

    slug = make_course({"code": "7-4", "rewards": [{"kind": "lottery", "k": 1, "prize": "飞桨定制本"}]})
    names = [add_user(stack, "student") for _ in range(3)]
    with session_scope() as session:
        ids = {name: session.scalar(select(User.id).where(User.name == name)) for name in names}
    add_replies(slug, "7-4", replies_2023([Reply(ids[name]) for name in names]))
    admin_name = add_user(stack, "admin")
    log_in(client, admin_name)
    base = f"/courses/{slug}/assignments/7-4"
    csrf = csrf_of(client, f"{base}/draws")
    draw_url = client.post(f"{base}/draws", data={"rule_index": "0", "csrf_token": csrf},
                           follow_redirects=False).headers["location"]
    draw_id = int(draw_url.rsplit("/", 1)[1])
    move_draw_to_2023(draw_id)
    freeze_in_2023(draw_id, admin_name)
    client.post(f"{draw_url}/reveal", data={"csrf_token": csrf, "beacon_signature": ROUND_123_SIGNATURE})
    record = client.get(f"/api/v1/draws/{draw_id}/record").json()
    floors = {name: record["frozen_list"].splitlines()[i].split("\t")[1] for i, name in enumerate(names)}
    winner = next(name for name in names if int(floors[name]) == record["winners"][0]["floor"])
    loser = next(name for name in names if name != winner)
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.clear()

    log_in(client, loser)
    page = client.get(draw_url).text
    assert f'action="{draw_url}/withdraw"' not in page
    assert f"#{floors[loser]}: " in page and "参与名单中的第" in page  # why they are an entry
    csrf = csrf_of(client, draw_url)
    assert client.post(f"{draw_url}/withdraw", data={"csrf_token": csrf, "reason": "x"}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.clear()

    log_in(client, winner)
    assert f'action="{draw_url}/withdraw"' in client.get(draw_url).text
    csrf = csrf_of(client, draw_url)
    done = client.post(f"{draw_url}/withdraw", follow_redirects=False,
                       data={"csrf_token": csrf, "reason": "已经有一本了"})
    assert done.status_code == 303, done.text
    new = client.get(f"/api/v1/draws/{done.headers['location'].rsplit('/', 1)[1]}/record").json()
    assert new["withdrawal"]["withdrawn_by"] == "winner" and new["withdrawal"]["reason"] == "已经有一本了"
    assert new["withdrawal"]["withdrawn_entry_ids"] == [record["winners"][0]["entry_id"]]
    assert new["beacon"]["round"] > 123  # a new drand round
