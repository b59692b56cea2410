"""Attacks on the web layer replayed as a hostile site or user would try them (docs/abuse.md,
"Tried as an attacker"): forged cross-site requests on every unsafe route."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.testclient import TestClient

from tests.support.stacks import Stack
from tests.support.web import csrf_of, register, shared_app

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def unsafe_routes(app: Any) -> Iterator[tuple[str, str, Any]]:
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for item in (contexts() if contexts else [route]):
            for method in sorted(UNSAFE & set(getattr(item, "methods", None) or ())):
                yield method, item.path, getattr(item, "dependant", None)


def calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from calls(sub)


def test_every_unsafe_route_checks_the_csrf_token(embedded: Stack) -> None:
    """A new form or JSON endpoint that forgets `CsrfChecked` fails here, before a forged
    request from another site can use a student's cookie on it."""
    from app.deps import check_csrf

    routes = list(unsafe_routes(shared_app()))
    assert len(routes) > 50
    missing = [f"{m} {p}" for m, p, dep in routes if dep is None or check_csrf not in set(calls(dep))]
    assert not missing, f"unsafe routes without a CSRF check: {missing}"


def test_a_forged_request_with_the_cookie_but_no_token_changes_nothing(client: TestClient, stack: Stack) -> None:
    register(client)
    fill = {"{slug}": "dl-bootcamp", "{code}": "1-1", "{name}": "nobody", "{locale}": "en"}
    refused = []
    for method, path, _ in unsafe_routes(client.app):
        url = re.sub(r"\{\w+_id\}", "1", path)
        for key, value in fill.items():
            url = url.replace(key, value)
        r = client.request(method, url, data={"text": "作业1-1：伪造"}, follow_redirects=False)
        refused.append((method, path, r.status_code))
    wrong = [x for x in refused if x[2] != 403]
    assert not wrong, wrong


def test_script_and_bad_links_in_a_reply_stay_inert(client: TestClient, stack: Stack) -> None:
    from tests.support.thread import account

    _, auth = account(stack)
    text = ("作业1-1：<script>alert(1)</script> [x](javascript:alert(1)) [d](data:text/html,hi) "
            "![a](data:image/svg+xml,<svg onload=alert(1)>) <a href=javascript:1>y</a> [v](vbscript:x) "
            "$\\href{javascript:alert(1)}{m}$")
    r = client.post("/api/v1/courses/dl-bootcamp/replies", data={"text": text}, headers=auth)
    assert r.status_code == 201, r.text
    part = r.json()["parts"][0]
    page = client.get(part["url"].split("#")[0]).text
    reply = page.split(f'id="floor-{part["floor"]}"')[1].split("</li>")[0]
    assert "<script" not in reply and "<svg" not in reply
    for scheme in ("javascript:", "data:", "vbscript:"):
        assert f'href="{scheme}' not in reply and f'src="{scheme}' not in reply


def test_error_pages_and_redirects_do_not_echo_or_leave_the_site(client: TestClient) -> None:
    page = client.get("/nope/<script>alert(1)</script>", headers={"accept": "text/html"})
    assert page.status_code == 404 and "<script>alert(1)" not in page.text
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/%09/evil.example"):
        r = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        location = r.headers["location"]
        assert r.status_code == 303 and location.startswith("/") and not location.startswith("//")
        assert "\t" not in location and "\\" not in location


def test_huge_or_negative_page_numbers_are_refused(client: TestClient) -> None:
    for url in ("/courses/dl-bootcamp/assignments/1-1?page=1000000000000", "/courses/dl-bootcamp?page=0",
                "/courses/dl-bootcamp/assignments/6-2/leaderboard?page=-3",
                "/api/v1/courses/dl-bootcamp/posts?offset=99999999999999", "/api/v1/courses/dl-bootcamp/posts?limit=-1",
                "/api/v1/courses/dl-bootcamp/posts?limit=100000"):
        assert client.get(url).status_code == 422, url


def test_extra_fields_cannot_set_scores_or_authors(client: TestClient, stack: Stack) -> None:
    from tests.support.thread import account

    _, auth = account(stack)
    r = client.post("/api/v1/courses/dl-bootcamp/assignments/1-1/submissions",
                    data={"text": "作业1-1：ok", "author_id": "1", "score": "1", "status": "scored"}, headers=auth)
    assert r.status_code == 201 and r.json()["status"] == "queued" and r.json()["score"] is None
    sid = r.json()["id"]
    edited = client.patch(f"/api/v1/submissions/{sid}", json={"text": "作业1-1：ok2", "score": 1.0}, headers=auth)
    assert edited.status_code == 422
    review = client.put(f"/api/v1/submissions/{sid}/review", json={"score": 100}, headers=auth)
    assert review.status_code == 403


def test_session_and_device_cookies_are_out_of_reach_of_scripts(embedded: Stack) -> None:
    from fastapi.testclient import TestClient as Client

    from app.config import get_settings
    from app.main import create_app

    for secure in (False, True):
        client = Client(create_app(get_settings().model_copy(update={"secure_cookies": secure})),
                        base_url="https://testserver" if secure else "http://testserver")
        name = register(client)
        client.cookies.clear()
        form = {"name": name, "password": "correct horse", "csrf_token": csrf_of(client, "/login")}
        r = client.post("/login", data=form, follow_redirects=False)
        cookies = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
        for name_ in ("camp_session", "camp_known"):
            assert "httponly" in cookies[name_] and "samesite=lax" in cookies[name_], cookies[name_]
            assert ("; secure" in cookies[name_]) is secure, cookies[name_]


def test_numbers_python_cannot_read_are_4xx_not_500(client: TestClient, stack: Stack) -> None:
    """int() refuses more than 4,300 digits, and `"²".isdigit()` is True while `int("²")` raises:
    each of these was a 500 (the first two for anyone, before any handler ran)."""
    from tests.support.thread import account

    big = "1" * 5000
    assert client.get(f"/courses/dl-bootcamp?page={big}").status_code == 422
    assert client.get(f"/draws/{big}").status_code == 404
    assert client.get("/courses/dl-bootcamp/assignments/1-1", params={"page": "²"}).status_code == 422
    _, auth = account(stack)
    page = client.get("/courses/dl-bootcamp/assignments/1-1", params={"posted": f"1,{big},²"}, headers=auth)
    assert page.status_code == 200
    # the thread's event stream reads Last-Event-ID with the same helper
    from app.input_guard import small_int

    assert [small_int(t) for t in ("²", "١", big, " 42 ", "")] == [None, None, None, 42, None]
