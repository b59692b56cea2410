"""The prize claim form: only the winner writes it, only admins read it (page and CSV, with
spreadsheet formulas neutralised), and the details are erased after the retention period."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.support.homework import Reply, add_replies, make_course, replies_2023
from tests.support.notify import items_of, run_lottery
from tests.support.stacks import Stack
from tests.support.staff import log_in, post_form
from tests.support.thread import user_id
from tests.support.web import add_user, make_client

HOSTILE = {"full_name": "=HYPERLINK(\"http://evil.example\",\"点我\")", "address": "+86 北京市海淀区\n@SUM(1+1)",
           "phone": "+1 (555) 0100"}


def won_draw(stack: Stack) -> tuple[str, int]:
    slug = make_course({"code": "1", "grading": {"kind": "reply_format"}, "rewards": [{"kind": "lottery", "k": 3}]})
    winner = add_user(stack)
    add_replies(slug, "1", replies_2023([Reply(user_id(winner))]))
    return winner, run_lottery(stack, slug, "1")


def test_only_the_winner_fills_in_the_claim_and_only_admins_read_it(client: TestClient, stack: Stack) -> None:
    winner, draw_id = won_draw(stack)
    url = f"/prizes/{draw_id}/claim"
    [item] = items_of(user_id(winner))
    log_in(client, winner)
    opened = post_form(client, f"/inbox/{item.id}/open", {}, "/inbox")
    assert opened.headers["location"] == url
    page = client.get(url)
    assert page.status_code == 200 and "领取奖品" in page.text
    bad = post_form(client, url, {**HOSTILE, "phone": "call me"}, url)
    assert bad.status_code == 422 and "电话号码只能包含数字" in bad.text
    assert "北京市海淀区" in bad.text  # what was typed is kept
    saved = post_form(client, url, HOSTILE, url)
    assert saved.status_code == 303 and client.get(saved.headers["location"]).text.count('data-role="claim-saved"') == 1

    for role in ("student", "instructor"):  # another student, an instructor: refused
        other = make_client()
        log_in(other, add_user(stack, role))
        assert other.get(url).status_code == 403
        assert post_form(other, url, {**HOSTILE, "full_name": "not me"}, "/").status_code == 403
        assert other.get("/admin/claims").status_code == 403
        assert other.get("/admin/claims.csv").status_code == 403
    assert make_client().get("/admin/claims.csv", follow_redirects=False).status_code in (401, 303)

    admin = make_client()
    log_in(admin, add_user(stack, "admin"))
    listing = admin.get("/admin/claims")
    assert listing.status_code == 200 and "北京市海淀区" in listing.text and "not me" not in listing.text
    exported = admin.get("/admin/claims.csv")
    assert exported.status_code == 200 and exported.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    mine = [r for r in rows if r["user"] == winner]
    assert len(mine) == 1
    assert mine[0]["name"] == "'" + HOSTILE["full_name"]  # a formula is text in a spreadsheet
    assert mine[0]["address"].startswith("'+86") and mine[0]["phone"] == "'+1 (555) 0100"


def test_a_claim_for_a_draw_not_won_or_not_published(client: TestClient, stack: Stack) -> None:
    winner, draw_id = won_draw(stack)
    log_in(client, winner)
    assert client.get(f"/prizes/{draw_id + 1000}/claim").status_code == 404
    assert client.get("/prizes/99999999999/claim").status_code in (404, 422)


def test_details_are_erased_after_the_retention_period(client: TestClient, stack: Stack) -> None:
    from app.db import session_scope
    from app.models import PrizeClaim, utcnow

    winner, old_draw = won_draw(stack)
    _, new_draw = won_draw(stack)
    log_in(client, winner)
    post_form(client, f"/prizes/{old_draw}/claim", HOSTILE, f"/prizes/{old_draw}/claim")
    with session_scope() as session:
        session.execute(update(PrizeClaim).where(PrizeClaim.draw_id == old_draw)
                        .values(updated_at=utcnow() - timedelta(days=91)))
        session.add(PrizeClaim(draw_id=new_draw, user_id=user_id(winner), full_name="留下", address="地址",
                               phone="123456"))
    result = stack.camp("claims", "erase")
    assert result.returncode == 0 and "erased (older than 90 days): 1" in result.stdout, result.stderr
    with session_scope() as session:
        old = session.query(PrizeClaim).filter_by(draw_id=old_draw).one()
        new = session.query(PrizeClaim).filter_by(draw_id=new_draw).one()
        assert (old.full_name, old.address, old.phone) == ("", "", "") and old.erased_at is not None
        assert new.full_name == "留下" and new.erased_at is None
    assert "已在保留期满后删除" in client.get(f"/prizes/{old_draw}/claim").text
    assert stack.camp("claims", "erase").stdout.strip().endswith(": 0")  # nothing left to erase


def test_every_formula_start_is_neutralised() -> None:
    from app.services.prize_claims import safe_cell

    for value in ("=1+1", "+86 138", "-2", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(value) == "'" + value
    assert safe_cell("张三") == "张三" and safe_cell(None) == "" and safe_cell(12) == "12"
