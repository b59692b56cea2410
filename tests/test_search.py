"""Search in a course and in a homework thread, on both stacks: Chinese and short words, the
index kept up to date on post, edit and delete, who may find what (a sealed answer stays
unfindable for other students), safe snippets, and the bounds on a search."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from tests.support.homework import Reply, add_replies, make_course, now
from tests.support.stacks import Stack
from tests.support.thread import account, log_in, user_id
from tests.support.web import add_user, make_client

SEALED = {"code": "7-1", "grading": {"kind": "conv_opcount"}}  # answers sealed until the deadline
OPEN = {"code": "8", "grading": {"kind": "reply_format", "answers": "open"}}


def floors(page: str) -> list[str]:
    """The `作业 X #N` links of a result page, in order."""
    return re.findall(r'class="where" href="[^"]*">作业 (\S+ #\d+)</a>', page)


def search(client: TestClient, slug: str, q: str, code: str | None = None, **params: str) -> str:
    path = f"/courses/{slug}/assignments/{code}/search" if code else f"/courses/{slug}/search"
    response = client.get(path, params={"q": q, **params})
    assert response.status_code == 200, response.text[-800:]
    return response.text


def set_texts(ids: list[int], texts: list[str]) -> None:
    from app.db import session_scope
    from app.models import Submission

    with session_scope() as session:
        for sid, body in zip(ids, texts, strict=True):
            session.execute(update(Submission).where(Submission.id == sid).values(text=body))


def index_is_consistent() -> None:
    """SQLite: FTS5's own integrity check of each external-content index against its table."""
    from app.db import session_scope

    with session_scope() as session:
        if session.get_bind().dialect.name == "sqlite":
            for table in ("search_replies", "search_posts"):
                session.execute(text(f"INSERT INTO {table}({table}) VALUES ('integrity-check')"))


def test_chinese_short_words_case_and_several_words(client: TestClient, stack: Stack) -> None:
    slug = make_course(OPEN)
    author = user_id(add_user(stack))
    ids = add_replies(slug, "8", [Reply(author) for _ in range(5)])
    set_texts(ids, ["作业8：卷积层的乘法次数是 867041280", "作业8：我用了 Adam 优化器，loss 下降很快",
                    "作业8：100% 的准确率_不可能", "作业8：池化层没有参数", '作业8：He said "卷积" twice'])
    log_in(client, add_user(stack))
    assert floors(search(client, slug, "卷积层", "8")) == ["8 #1"]  # three characters: the index
    assert floors(search(client, slug, "卷积")) == ["8 #5", "8 #1"]  # two: LIKE; newest first
    assert floors(search(client, slug, "层")) == ["8 #4", "8 #1"]  # one character
    assert floors(search(client, slug, "adam")) == ["8 #2"]  # case does not matter
    assert floors(search(client, slug, "LOSS 优化器")) == ["8 #2"]  # every word must be there
    assert floors(search(client, slug, "卷积\u3000乘法")) == ["8 #1"]  # a full-width space splits too
    assert floors(search(client, slug, "100%")) == ["8 #3"]  # LIKE's % and _ are literal
    assert floors(search(client, slug, "%")) == ["8 #3"]
    assert floors(search(client, slug, "率_不")) == ["8 #3"]
    assert floors(search(client, slug, '"卷积"')) == ["8 #5"]  # FTS5's quote is literal
    assert floors(search(client, slug, "8670")) == ["8 #1"]
    assert floors(search(client, slug, "卷积 adam")) == []
    page = search(client, slug, "卷积层")
    assert "<mark>卷积层</mark>的乘法次数" in page and "1 条回复符合" in page


def test_a_sealed_answer_cannot_be_found_by_another_student(client: TestClient, stack: Stack) -> None:
    """The attack: before the deadline, search for the answer's text to copy it."""
    slug = make_course(SEALED, OPEN, due=now() + timedelta(days=1))
    author_name = add_user(stack)
    author = user_id(author_name)
    [sealed] = add_replies(slug, "7-1", [Reply(author)])
    [public] = add_replies(slug, "8", [Reply(author)])
    set_texts([sealed, public], ["作业7-1：乘法867041280,加法867041280", "作业8：乘法的次数我还没算出来"])
    log_in(client, add_user(stack))
    for code in (None, "7-1"):
        for q in ("867041280", "乘法867", "乘法", "加法8"):
            page = search(client, slug, q, code)
            assert "7-1 #1" not in floors(page) and "加法867041280" not in page, (code, q)
    assert floors(search(client, slug, "乘法")) == ["8 #1"]  # the open homework's reply is found
    assert "867041280" not in client.get(f"/api/v1/courses/{slug}/posts").text
    for code in (None, "7-1"):  # the API: the same rule
        found = client.get(f"/api/v1/courses/{slug}/search", params={"q": "乘法867", **({"code": code} if code else {})})
        assert found.status_code == 200 and found.json()["hits"] == [] and "867041280" not in found.text
    with make_client() as anonymous:
        assert floors(search(anonymous, slug, "乘法867")) == []
    with make_client() as own:
        log_in(own, author_name)
        assert floors(search(own, slug, "乘法867", "7-1")) == ["7-1 #1"]  # the author finds it
    with make_client() as staff:
        log_in(staff, add_user(stack, "instructor"))
        assert floors(search(staff, slug, "乘法867")) == ["7-1 #1"]
        hit = staff.get(f"/api/v1/courses/{slug}/search", params={"q": "乘法867"}).json()["hits"][0]
        assert (hit["code"], hit["floor"], hit["url"]) == ("7-1", 1, f"/courses/{slug}/assignments/7-1?page=1#floor-1")
        assert {"text": "乘法867", "match": True} in hit["snippet"]
    _move_deadline(slug, now() - timedelta(minutes=1))
    assert floors(search(client, slug, "乘法867")) == ["7-1 #1"]  # after the deadline answers open


def _move_deadline(slug: str, due: object) -> None:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Assignment, Course

    with session_scope() as session:
        course_id = session.scalar(select(Course.id).where(Course.slug == slug))
        session.execute(update(Assignment).where(Assignment.course_id == course_id).values(due_at=due))


def test_hidden_and_deleted_replies_and_posts(client: TestClient, stack: Stack) -> None:
    slug = make_course(OPEN)
    author_name = add_user(stack)
    author = user_id(author_name)
    ids = add_replies(slug, "8", [Reply(author), Reply(author, hidden=True)])
    set_texts(ids, ["作业8：正常的回答 marker", "作业8：藏起来的回答 marker"])
    _post(slug, author, "课程讨论：marker 在课程帖子里")
    _post(slug, author, "课程讨论：marker 被删掉的帖子", hidden=True)
    log_in(client, add_user(stack))
    page = search(client, slug, "marker")
    assert floors(page) == ["8 #1"] and page.count('data-kind="post"') == 1
    assert "藏起来" not in page and "被删掉" not in page
    with make_client() as own:  # the page does not show its author a hidden reply's text either
        log_in(own, author_name)
        assert "藏起来" not in search(own, slug, "marker")
    with make_client() as staff:
        log_in(staff, add_user(stack, "admin"))
        page = search(staff, slug, "藏起来", "8")
        assert floors(page) == ["8 #2"] and '<span class="chip">已隐藏</span>' in page


def _post(slug: str, author: int, body: str, hidden: bool = False) -> None:
    from app.db import session_scope
    from app.models import CoursePost
    from app.services.courses import get_course

    with session_scope() as session:
        course = get_course(session, slug)
        session.add(CoursePost(course_id=course.id, author_id=author, text=body, hidden=hidden,
                               hidden_by="author" if hidden else None))


def test_index_follows_post_edit_and_delete(client: TestClient, stack: Stack) -> None:
    slug = make_course(OPEN)
    _name, auth = account(stack)
    posted = client.post(f"/api/v1/courses/{slug}/assignments/8/submissions", headers=auth,
                         data={"text": "作业8：第一版的回答 alpha"})
    assert posted.status_code == 201, posted.text
    sid = posted.json()["id"]
    log_in(client, add_user(stack))
    assert floors(search(client, slug, "第一版")) == ["8 #1"]
    edited = client.patch(f"/api/v1/submissions/{sid}", headers=auth, json={"text": "作业8：第二版 beta"})
    assert edited.status_code == 200, edited.text
    assert floors(search(client, slug, "第一版")) == [] and floors(search(client, slug, "第二版")) == ["8 #1"]
    assert client.delete(f"/api/v1/submissions/{sid}", headers=auth).status_code == 204
    assert floors(search(client, slug, "第二版")) == []  # deleted by its author: hidden
    index_is_consistent()
    from app.db import session_scope

    with session_scope() as session:  # a row really removed (its course deleted) leaves the index
        session.execute(text("DELETE FROM submissions WHERE id = :id"), {"id": sid})
    index_is_consistent()
    assert floors(search(client, slug, "第二版")) == []


def test_snippets_are_escaped(client: TestClient, stack: Stack) -> None:
    slug = make_course(OPEN)
    [sid] = add_replies(slug, "8", [Reply(user_id(add_user(stack)))])
    set_texts([sid], ['<script>alert(1)</script><img src=x> 卷积 ' + "长" * 400])
    page = search(client, slug, "卷积")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x&gt;" in page and "<mark>卷积</mark>" in page
    assert "长" * 200 not in page  # a snippet, not the whole text
    page = search(client, slug, "<script>")
    assert "<mark>&lt;script&gt;</mark>" in page
    box = search(client, slug, '"><script>x</script>')
    assert '"><script>x' not in box and "&#34;&gt;&lt;script&gt;" in box


def test_bounds_on_a_search(client: TestClient, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import search as service

    slug = make_course(OPEN)
    add_replies(slug, "8", [Reply(user_id(add_user(stack))) for _ in range(3)])
    long = client.get(f"/courses/{slug}/search", params={"q": "长" * 65})
    assert long.status_code == 422 and "搜索最多 64 个字符" in long.text
    many = client.get(f"/courses/{slug}/search", params={"q": "a b c d e f"})
    assert many.status_code == 422 and "搜索最多 5 个词" in many.text
    deep = client.get(f"/courses/{slug}/search", params={"q": "作业", "page": "26"})
    assert deep.status_code == 422 and "只显示前 25 页" in deep.text
    if stack.name == "sqlite":
        monkeypatch.setattr(service, "SQLITE_STEP_CHUNK", 1)  # counted step by step,
        monkeypatch.setattr(service, "SQLITE_STEP_BUDGET", 10)  # the budget runs out at once
        costly = client.get(f"/courses/{slug}/search", params={"q": "作业"})
        assert costly.status_code == 422 and "搜索用时过长" in costly.text
        monkeypatch.undo()
    else:  # each search statement runs under the timeout, reset after the search
        from tests.support.queries import statements

        with statements() as sent:
            search(client, slug, "作业")
        timeout = [i for i, sql in enumerate(sent) if "statement_timeout" in sql]
        assert len(timeout) == 2 and "= 3000" in sent[timeout[0]] and "DEFAULT" in sent[timeout[1]]
        assert sum("search" not in sql and "submissions" in sql for sql in sent[timeout[0]:timeout[1]]) == 2
        monkeypatch.setattr(service, "PG_TIMEOUT_MS", 1)
        from app.db import session_scope

        with session_scope() as session, pytest.raises(service.SearchTooCostly):
            with service._bounded(session, sqlite=False):  # a statement past the timeout is cancelled
                session.execute(text("SELECT pg_sleep(2)"))
        monkeypatch.undo()
    assert client.get(f"/courses/{slug}/search", params={"q": "作业"}).status_code == 200
    assert client.get(f"/courses/{slug}/search", params={"q": "  "}).status_code == 200


def test_paging(client: TestClient, stack: Stack) -> None:
    from app import paging

    slug = make_course(OPEN)
    author = user_id(add_user(stack))
    add_replies(slug, "8", [Reply(author) for _ in range(paging.SEARCH_PAGE + 3)])
    first, second = search(client, slug, "作业8"), search(client, slug, "作业8", page="2")
    assert len(floors(first)) == paging.SEARCH_PAGE and floors(first)[0] == f"8 #{paging.SEARCH_PAGE + 3}"
    assert floors(second) == ["8 #3", "8 #2", "8 #1"]
    assert 'href="?q=%E4%BD%9C%E4%B8%9A8&page=2"' in first


def test_search_boxes_on_the_pages(client: TestClient, stack: Stack) -> None:
    slug = make_course(OPEN)
    course, homework = client.get(f"/courses/{slug}").text, client.get(f"/courses/{slug}/assignments/8").text
    assert f'action="/courses/{slug}/search"' in course and 'role="search"' in course
    assert f'action="/courses/{slug}/assignments/8/search"' in homework
    assert client.get(f"/courses/{slug}/assignments/nope/search?q=x").status_code == 404


def test_snippet_pieces() -> None:
    from app.services.search import fts_phrase, like_pattern, parse, snippet

    assert snippet("abc 卷积 def", ["卷积"]) == (("abc ", False), ("卷积", True), (" def", False))
    cut = snippet("x" * 300 + "卷积" + "y" * 300, ["卷积"], width=40)
    assert cut[0] == ("…", False) and cut[-1] == ("…", False) and ("卷积", True) in cut
    assert snippet("Adam adam", ["ADAM"]) == (("Adam", True), (" ", False), ("adam", True))
    assert like_pattern("50%_\\") == "%50\\%\\_\\\\%"
    assert fts_phrase('a"b') == '"a""b"'
    assert parse("  卷积\u3000乘法 卷积 ") == ("卷积", "乘法")
    assert parse("a\x00b") == ("a", "b")


def test_index_structures_at_head(stack: Stack) -> None:
    """A later migration that rebuilds `submissions` on SQLite (a batch table copy) would drop
    the triggers with the old table: this fails then, before search silently goes stale."""
    from app.db import session_scope

    with session_scope() as session:
        if session.get_bind().dialect.name == "sqlite":
            found = set(session.scalars(text("SELECT name FROM sqlite_master WHERE name LIKE 'search_%'")))
            for fts in ("search_replies", "search_posts"):
                assert {fts, f"{fts}_insert", f"{fts}_update", f"{fts}_delete"} <= found
        else:
            found = set(session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'search_%'")))
            assert found == {"search_replies_trgm", "search_posts_trgm"}


def test_postgres_uses_the_trigram_index(pg_stack: Stack) -> None:
    """A search of a Chinese word on PostgreSQL can be served by the pg_trgm index (the planner
    prefers a scan of this small table, so scans are switched off to ask whether it could)."""
    from app.db import session_scope

    with pg_stack.active(), session_scope() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(session.scalars(text(
            "EXPLAIN SELECT id FROM submissions WHERE text ILIKE '%卷积层%'")))
    assert "search_replies_trgm" in plan, plan
