"""The route-table visibility test: every read route × role × reply state, what is shown.

Each reply state has its own markers, one set per kind of content (text, image bytes, code,
result, private details, private-split numbers). Every GET route of the app is requested by
every role (anonymous, another student, the author, an instructor, an admin) and the markers
found in the answer must be within what the state allows that role (`EXPECTED`) and what the
route can show at all (`ROUTES`). A route missing from `ROUTES` fails the test: a new read path
needs its rule written down here (and its code asking `app.services.visibility`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image, PngImagePlugin
from sqlalchemy import insert, select, update

from tests.support.homework import make_course, now
from tests.support.stacks import Stack
from tests.support.staff import log_in
from tests.support.web import add_user, csrf_of, make_client, shared_app

ROLES = ("anonymous", "student", "author", "instructor", "admin")
STATES = ("normal", "sealed", "hidden", "deleted", "private_before", "private_after")
#: the homework each state's reply lives in
HOMEWORK = {"normal": "1-1", "sealed": "1-2", "hidden": "1-1", "deleted": "1-1",
            "private_before": "6-1", "private_after": "6-2"}
T, IMG, C, R, P, S = "text", "image", "code", "result", "private", "split"
EVERYTHING = frozenset({T, IMG, C, R, P, S})
OWN = frozenset({T, IMG, C, R, P})
PUBLIC = frozenset({T, IMG, R})
NONE: frozenset[str] = frozenset()

#: what each role may see of a reply in each state
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "normal": {"anonymous": PUBLIC, "student": PUBLIC, "author": OWN, "staff": OWN},
    "sealed": {"anonymous": NONE, "student": NONE, "author": OWN, "staff": OWN},
    "hidden": {"anonymous": NONE, "student": NONE, "author": OWN, "staff": OWN},
    "deleted": {"anonymous": NONE, "student": NONE, "author": OWN, "staff": OWN},
    # before the deadline only the staff see a number the private part follows from
    "private_before": {"anonymous": PUBLIC, "student": PUBLIC, "author": OWN, "staff": EVERYTHING},
    "private_after": {"anonymous": PUBLIC | {S}, "student": PUBLIC | {S}, "author": EVERYTHING,
                      "staff": EVERYTHING},
}

REPLY = EVERYTHING - {IMG}  # a page or JSON about replies: everything but image bytes
STAFF_ONLY = EVERYTHING  # guarded by the staff role: EXPECTED already allows staff everything
#: every GET route and what it can show at most; `exact` routes show exactly what is allowed
ROUTES: dict[str, frozenset[str]] = {
    "/healthz": NONE,
    "/metrics": NONE,
    "/openapi.json": NONE,
    "/docs": NONE,
    "/api/v1/courses": NONE,
    "/api/v1/courses/{slug}/assignments": NONE,
    "/api/v1/courses/{slug}/assignments/{code}": NONE,
    "/api/v1/submissions/{submission_id}": REPLY,
    "/api/v1/me/submissions": REPLY,
    "/api/v1/admin/users": NONE,
    "/api/v1/admin/users/{name}/tokens": NONE,
    "/api/v1/me/tokens": NONE,
    "/account": NONE,
    "/password/forgot": NONE,
    "/password/reset": NONE,
    # the inbox shows what happened, never a reply's text or score (app/services/notifications.py)
    "/inbox": NONE,
    "/api/v1/me/notifications": NONE,
    "/prizes/{draw_id}/claim": NONE,  # the winner's own delivery details
    "/admin/claims": NONE,  # delivery details: admins only (tests/test_notifications_claims.py)
    "/admin/claims.csv": NONE,
    "/api/v1/courses/{slug}/assignments/{code}/leaderboard": frozenset({R, S}),
    "/api/v1/courses/{slug}/assignments/{code}/leaderboard.csv": STAFF_ONLY,
    "/api/v1/courses/{slug}/assignments/{code}/draws": NONE,
    "/api/v1/draws/{draw_id}/record": NONE,
    "/api/v1/audit/draws": NONE,  # draw entries of the audit log: public by design (docs/draws.md §11.11)
    "/.well-known/camp-draw-key": NONE,
    "/api/v1/draws/{draw_id}/entries": STAFF_ONLY,
    "/api/v1/courses/{slug}/assignments/{code}/entries": STAFF_ONLY,
    "/api/v1/courses/{slug}/posts": NONE,
    "/api/v1/submissions/{submission_id}/likes": NONE,
    "/api/v1/submissions/{submission_id}/edits": frozenset({P}),
    "/api/v1/courses/{slug}/assignments/{code}/quota": NONE,
    "/api/v1/courses/{slug}/assignments/{code}/reviews": STAFF_ONLY,
    "/api/v1/submissions/{submission_id}/attempts": STAFF_ONLY,
    "/api/v1/admin/queue": STAFF_ONLY,
    "/api/v1/courses/{slug}/assignments/{code}/similar": STAFF_ONLY,
    "/api/v1/courses/{slug}/assignments/{code}/like-clusters": STAFF_ONLY,
    "/courses/{slug}/assignments/{code}/integrity": STAFF_ONLY,
    "/register": NONE,
    "/login": NONE,
    "/lang/{locale}": NONE,
    "/": NONE,
    "/courses/{slug}": NONE,
    "/courses/{slug}/assignments/{code}": REPLY,
    # searched for every state's text marker (`urls`): snippets of text only
    "/courses/{slug}/search": frozenset({T}),
    "/api/v1/courses/{slug}/search": frozenset({T}),
    "/courses/{slug}/assignments/{code}/search": frozenset({T}),
    "/me/submissions": REPLY,
    "/files/{attachment_id}": frozenset({IMG, C}),
    "/files/{attachment_id}/notebook": frozenset({C}),  # a notebook is code (app/web/files.py)
    "/submissions/{submission_id}/events": frozenset({R, S, P}),
    # the homework's replies as the thread page renders them, pushed to an open page
    "/courses/{slug}/assignments/{code}/replies/events": REPLY,
    "/courses/{slug}/posts/events": NONE,  # the course thread's posts (the world has one)
    "/courses/{slug}/assignments/{code}/leaderboard": frozenset({R, S}),
    "/draws/{draw_id}": NONE,
    "/courses/{slug}/assignments/{code}/draws": NONE,
    "/submissions/{submission_id}/edit": frozenset({T}),
    "/courses/{slug}/assignments/{code}/reviews": STAFF_ONLY,
    "/staff": STAFF_ONLY,
    "/staff/courses/{slug}": STAFF_ONLY,
    "/staff/courses/{slug}/assignments/{code}": STAFF_ONLY,
    "/staff/courses/{slug}/assignments/{code}/submissions.csv": STAFF_ONLY,
    "/staff/submissions/{submission_id}": STAFF_ONLY,
    # the course editor shows the homework's definition, never a reply (admins and the course's instructors)
    "/staff/courses/{slug}/edit": NONE,
    "/staff/courses/{slug}/edit/homework/{code}": NONE,
    "/staff/courses/{slug}/edit/new": NONE,
    "/staff/courses/{slug}/edit/course": NONE,
    "/staff/courses/{slug}/course.yaml": NONE,
    "/favicon.ico": NONE,
    "/admin": STAFF_ONLY,
    "/admin/users": STAFF_ONLY,
    "/admin/courses": STAFF_ONLY,
    "/admin/rewards": STAFF_ONLY,
    "/admin/audit": STAFF_ONLY,
}
#: routes that must show exactly what the state allows (within their ceiling)
EXACT = {"/api/v1/submissions/{submission_id}", "/files/{attachment_id}"}
PER_STATE = ("{code}", "{submission_id}", "{attachment_id}")


def markers(index: int, state: str) -> dict[str, tuple[str, ...]]:
    split = state.startswith("private")
    marks = {T: (f"TXT-{state}",), IMG: (f"IMG-{state}",), C: (f"CODE-{state}",),
             P: (f"LOG-{state}", f"REV-{state}", f"DET-{state}")}
    if split:
        marks[R] = (f"0.91{index}3", f"0.81{index}3")  # a result: the public or the overall value
        # the count has seven digits: a four-digit one turned up by chance inside timestamps
        marks[S] = (f"0.81{index}3", f"MSG-{state}", f"0.72{index}7", f"81{index}3907")
    else:
        marks[R] = (f"0.71{index}3", f"MSG-{state}")
    return marks


def png(marker: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("camp", marker)
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


@dataclass
class World:
    slug: str
    submissions: dict[str, int]
    files: dict[str, tuple[int, int]]  # state -> (image id, code id)
    draw_id: int
    clients: dict[str, TestClient]


def _insert(slug: str, author_id: int, reviewer: int) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    from app import storage
    from app.db import session_scope
    from app.models import Assignment, Attachment, Course, CoursePost, Submission

    ids, files = {}, {}
    with session_scope() as session:
        homework = {code: aid for code, aid in session.execute(
            select(Assignment.code, Assignment.id).join(Course).where(Course.slug == slug))}
        for index, state in enumerate(STATES, 1):
            assignment_id = homework[HOMEWORK[state]]
            floor = session.scalar(select(Assignment.next_floor).where(Assignment.id == assignment_id))
            session.execute(update(Assignment).where(Assignment.id == assignment_id)
                            .values(next_floor=Assignment.next_floor + 1))
            detail: dict[str, object] = {"note": f"DET-{state}"}
            score = float(f"0.71{index}3")
            if state.startswith("private"):
                score = float(f"0.81{index}3")
                detail |= {"accuracy": score, "correct": int(f"81{index}3907"), "total": 10_000_000,
                           "public_accuracy": float(f"0.91{index}3"), "public_count": 5_000_000,
                           "private_accuracy": float(f"0.72{index}7"), "private_count": 5_000_000,
                           "rank_on": "all"}
            at = now() - timedelta(days=2)
            hidden_by = {"hidden": "staff", "deleted": "author"}.get(state)
            sid = session.execute(insert(Submission).returning(Submission.id), [{
                "assignment_id": assignment_id, "author_id": author_id, "floor": floor,
                "text": f"作业：TXT-{state}", "status": "scored", "verdict": "accepted", "score": score,
                "messages": {"en": f"MSG-{state}", "zh_CN": f"MSG-{state}"}, "detail": detail,
                "log": f"LOG-{state}", "attempts": 1, "created_at": at, "queued_at": at,
                "updated_at": at, "graded_at": at, "hidden": hidden_by is not None,
                "hidden_by": hidden_by, "review_comment": f"REV-{state}", "review_score": 1.0,
                "reviewed_at": at, "reviewer_id": reviewer,
            }]).scalar_one()
            ids[state] = sid
            pair = []
            for name, kind, data, ctype in (("shot.png", "image", png(f"IMG-{state}"), "image/png"),
                                            (f"CODE-{state}.py", "code", f"# CODE-{state}\n".encode(),
                                             "text/x-python")):
                pair.append(session.execute(insert(Attachment).returning(Attachment.id), [{
                    "submission_id": sid, "filename": name, "sha256": storage.put(data),
                    "size": len(data), "kind": kind, "content_type": ctype}]).scalar_one())
            files[state] = (pair[0], pair[1])
        course_id = session.scalar(select(Course.id).where(Course.slug == slug))
        session.execute(insert(CoursePost), [{"course_id": course_id, "author_id": author_id,
                                              "text": "大家好", "created_at": now()}])
    return ids, files


@pytest.fixture(scope="module")
def world(sqlite_stack: Stack) -> Iterator[World]:
    with sqlite_stack.active():
        split = {"kind": "mnist", "public_fraction": 0.5, "answers": "open"}
        slug = make_course(
            {"code": "1-1", "grading": {"kind": "reply_format", "answers": "open"},
             "rewards": [{"kind": "lottery", "k": 1}]},
            {"code": "1-2", "grading": {"kind": "reply_format", "answers": "sealed_until_deadline"}},
            {"code": "6-1", "grading": split},
            {"code": "6-2", "grading": split, "opens": now() - timedelta(days=9),
             "due": now() - timedelta(days=1)},
        )
        names = {role: add_user(sqlite_stack, role) for role in ("student", "instructor", "admin")}
        names["author"] = add_user(sqlite_stack, "student")
        from tests.support.thread import user_id

        ids, files = _insert(slug, user_id(names["author"]), user_id(names["instructor"]))
        clients = {"anonymous": make_client().__enter__()}
        for role in ("student", "author", "instructor", "admin"):
            clients[role] = make_client().__enter__()
            log_in(clients[role], names[role])
        admin = clients["admin"]
        committed = admin.post(f"/courses/{slug}/assignments/1-1/draws", follow_redirects=False, data={
            "rule_index": "0", "freeze_at": "", "prize": "",
            "csrf_token": csrf_of(admin, f"/courses/{slug}/assignments/1-1/draws")})
        assert committed.status_code == 303, committed.text
        draw_id = int(committed.headers["location"].rsplit("/", 1)[1])
        yield World(slug, ids, files, draw_id, clients)
        for c in clients.values():
            c.__exit__(None, None, None)


def read_routes(app: object) -> list[str]:
    """Every GET path of the app, including those of included routers."""
    paths = []
    for route in app.routes:  # type: ignore[attr-defined]
        contexts = getattr(route, "effective_route_contexts", None)
        for item in (contexts() if contexts else [route]):
            if "GET" in (getattr(item, "methods", None) or ()):
                paths.append(item.path)
    return sorted(set(paths))


def urls(path: str, world: World, state: str | None) -> list[str]:
    fill = {"{slug}": world.slug, "{draw_id}": str(world.draw_id), "{locale}": "en", "{name}": "nobody"}
    if state is not None:
        fill |= {"{code}": HOMEWORK[state], "{submission_id}": str(world.submissions[state])}
    if "{attachment_id}" in path:
        assert state is not None
        return [path.replace("{attachment_id}", str(f)) for f in world.files[state]]
    for key, value in fill.items():
        path = path.replace(key, value)
    if path.endswith("/search"):
        path += "?q=TXT-"  # every state's text marker starts so
    return [path]


def shown(body: str, state: str) -> set[str]:
    index = STATES.index(state) + 1
    return {kind for kind, marks in markers(index, state).items() if any(m in body for m in marks)}


def body_of(client: TestClient, url: str) -> str:
    response = client.get(url, follow_redirects=False)
    assert response.status_code < 500, (url, response.status_code, response.text[:500])
    return response.content.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def paths(sqlite_stack: Stack) -> list[str]:
    """The app's GET paths."""
    with sqlite_stack.active():
        return read_routes(shared_app())


def test_every_read_route_has_a_rule(paths: list[str]) -> None:
    missing = [p for p in paths if p not in ROUTES]
    assert not missing, f"read routes without a visibility rule: {missing}"
    stale = [p for p in ROUTES if p not in paths]
    assert not stale, f"rules for routes that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_route_table_role_state(world: World, role: str, sqlite_stack: Stack, paths: list[str]) -> None:
    client = world.clients[role]
    kind = "staff" if role in ("instructor", "admin") else role
    problems = []
    with sqlite_stack.active():
        for path in paths:
            ceiling = ROUTES[path]
            per_state = any(k in path for k in PER_STATE)
            for state in STATES:
                if not per_state and state != STATES[0]:
                    continue
                bodies = [body_of(client, url) for url in urls(path, world, state if per_state else None)]
                for st in (STATES if not per_state else (state,)):
                    seen = set().union(*(shown(b, st) for b in bodies))
                    allowed = EXPECTED[st][kind] & ceiling
                    if not seen <= allowed:
                        problems.append(f"{path} [{st}] {role} sees {sorted(seen - allowed)}")
                    if path in EXACT and seen != allowed:
                        problems.append(f"{path} [{st}] {role} sees {sorted(seen)}, "
                                        f"should see {sorted(allowed)}")
    assert not problems, "\n".join(problems)
