"""Quoting a floor: the link under a reply opens the reply box with `> #N name：` and its text;
a reply the viewer may not read (sealed before the deadline, hidden) gives an empty box."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.support.homework import Reply, add_replies, make_course, now
from tests.support.stacks import Stack
from tests.support.thread import log_in, user_id
from tests.support.web import add_user


def _draft(page: str) -> str:
    found = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, page[-1500:]
    return html.unescape(found.group(1))


def test_quote_fills_the_reply_box(embedded_client: TestClient, embedded: Stack) -> None:
    slug = make_course({"code": "8"})
    author = add_user(embedded)
    add_replies(slug, "8", [Reply(user_id(author)), Reply(user_id(author), hidden=True)])
    log_in(embedded_client, add_user(embedded))
    base = f"/courses/{slug}/assignments/8"
    page = embedded_client.get(base).text
    assert 'href="?page=1&amp;quote=1#reply"' in page
    assert _draft(embedded_client.get(f"{base}?quote=1").text) == f"> #1 {author}：\n> 作业8：0\n\n"
    assert _draft(embedded_client.get(f"{base}?quote=2").text) == ""  # hidden
    assert _draft(embedded_client.get(f"{base}?quote=99").text) == ""


def test_a_sealed_answer_is_not_quoted(embedded_client: TestClient, embedded: Stack) -> None:
    slug = make_course({"code": "7-1", "grading": {"kind": "conv_opcount"}}, due=now() + timedelta(days=1))
    add_replies(slug, "7-1", [Reply(user_id(add_user(embedded)))])
    log_in(embedded_client, add_user(embedded))
    page = embedded_client.get(f"/courses/{slug}/assignments/7-1?quote=1").text
    assert _draft(page) == "" and "quote=1#reply" not in page
