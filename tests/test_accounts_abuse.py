"""Accounts under attack: cookies that end, tokens that expire and can be revoked, brute force
that locks, look-alike names, password change and reset (mail to a local SMTP server)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.support.mailbox import SmtpInbox, smtp_server
from tests.support.stacks import Stack
from tests.support.web import add_user, api_token, app_client, csrf_of, register, unique_name


def login(client: TestClient, name: str, password: str = "correct horse") -> Any:
    token = csrf_of(client, "/login")
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token},
                       follow_redirects=False)


def logged_in(client: TestClient) -> bool:
    return client.get("/api/v1/me/submissions").status_code == 200


def test_a_captured_cookie_stops_working_at_logout(client: TestClient) -> None:
    register(client)
    captured = client.cookies.get("camp_session")
    assert logged_in(client)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    attacker = app_client()
    attacker.cookies.set("camp_session", captured)
    assert attacker.get("/api/v1/me/submissions").status_code == 401


def test_password_change_ends_the_other_sessions(client: TestClient) -> None:
    name = register(client)
    other = app_client()
    assert login(other, name).status_code == 303 and logged_in(other)
    r = client.post("/account/password", data={"current": "correct horse", "new": "new horse 123",
                                               "new2": "new horse 123", "csrf_token": csrf_of(client, "/account")},
                    follow_redirects=False)
    assert r.status_code == 303
    assert logged_in(client) and not logged_in(other)  # this browser stays, the other one is out
    assert login(other, name).status_code == 401 and login(other, name, "new horse 123").status_code == 303
    r = client.post("/account/password", data={"current": "wrong", "new": "x" * 9, "new2": "x" * 9,
                                               "csrf_token": csrf_of(client, "/account")})
    assert r.status_code == 422 and "当前密码不正确" in r.text


def test_role_change_and_disable_end_sessions_and_tokens(client: TestClient, stack: Stack) -> None:
    name = register(client)
    token = api_token(stack, name)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me/submissions", headers=bearer).status_code == 200
    assert stack.camp("user", "role", name, "instructor").returncode == 0
    assert not logged_in(client)
    assert login(client, name).status_code == 303 and logged_in(client)
    assert stack.camp("user", "disable", name).returncode == 0
    assert not logged_in(client)
    assert client.get("/api/v1/me/submissions", headers=bearer).status_code == 401
    assert login(client, name).status_code == 401
    assert stack.camp("user", "enable", name).returncode == 0
    assert login(client, name).status_code == 303


@pytest.mark.slow  # 200 log-ins
def test_200_wrong_passwords_lock_the_account_and_the_address(client: TestClient) -> None:
    from app.db import session_scope
    from app.models import AuthThrottle

    name = register(client)
    attacker = app_client("203.0.113.66", login_address_lock_failures=50)  # the default
    statuses = [login(attacker, name, f"guess-{i}").status_code for i in range(200)]
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429  # a few tries, then refused
    r = login(attacker, name)  # the right password: refused too, and told why
    assert r.status_code == 429 and "此账号已被锁定" in r.text and int(r.headers["retry-after"]) > 60
    elsewhere = app_client("198.51.100.9", login_address_lock_failures=50)
    r = login(elsewhere, name)
    assert r.status_code == 429 and "此账号已被锁定" in r.text
    r = login(attacker, register(app_client("192.0.2.1")))  # another account from that address
    assert r.status_code == 429 and "来自该地址的登录已暂停" in r.text
    with session_scope() as session:  # the lock ends
        session.execute(update(AuthThrottle).values(locked_until=None, count=0))
    assert login(elsewhere, name).status_code == 303


def test_growing_delays_are_told_in_english_too(client: TestClient) -> None:
    name = register(client)
    attacker = app_client("203.0.113.67")
    attacker.cookies.set("camp_lang", "en")
    statuses = [login(attacker, name, "nope-nope").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    r = login(attacker, name, "nope-nope")
    assert "wait" in r.text and "seconds before the next try" in r.text


@pytest.mark.parametrize("look_alike", ["ｒｏｏｔ", "rооt", "Root", "𝐫𝐨𝐨𝐭", "ROOT"])
def test_look_alike_names_are_refused(embedded: Stack, look_alike: str) -> None:
    base = "root" + unique_name("")
    client = app_client()
    register(client, base)
    name = look_alike + base[4:]
    token = csrf_of(client, "/register")
    r = client.post("/register", data={"name": name, "password": "12345678", "password2": "12345678",
                                       "csrf_token": token})
    assert r.status_code == 409 and "过于相似" in r.text
    result = embedded.camp("user", "add", name, stdin="12345678\n")
    assert result.returncode != 0 and "looks too much like" in result.stderr


def test_look_alike_login_finds_the_account(client: TestClient) -> None:
    name = register(client, "Ｍixed" + unique_name(""))
    assert login(app_client(), name.lower()).status_code == 303


def test_registrations_per_address_are_limited(embedded: Stack) -> None:
    client = app_client("198.51.100.77", registrations_per_address_per_hour=3)
    for _ in range(3):
        register(client)
        client.cookies.clear()
    token = csrf_of(client, "/register")
    r = client.post("/register", data={"name": unique_name(), "password": "12345678",
                                       "password2": "12345678", "csrf_token": token})
    assert r.status_code == 429 and "注册的新账号过多" in r.text
    register(app_client("198.51.100.78", registrations_per_address_per_hour=3))  # others still can


def test_tokens_are_named_listed_expire_and_are_revoked(client: TestClient, stack: Stack) -> None:
    from app.db import session_scope
    from app.models import ApiToken, utcnow

    name = add_user(stack)
    bearer = {"Authorization": f"Bearer {api_token(stack, name)}"}
    r = client.post("/api/v1/me/tokens", json={"label": "laptop", "expires_days": 30}, headers=bearer)
    assert r.status_code == 201 and r.json()["label"] == "laptop" and r.json()["expires_at"]
    second = {"Authorization": f"Bearer {r.json()['token']}"}
    listed = client.get("/api/v1/me/tokens", headers=second).json()
    assert [t["label"] for t in listed] == ["laptop", "cli"] and "token" not in listed[0]
    with session_scope() as session:  # thirty days later
        session.execute(update(ApiToken).where(ApiToken.id == r.json()["id"])
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/me/tokens", headers=second).status_code == 401
    first_id = listed[1]["id"]
    other = {"Authorization": f"Bearer {api_token(stack, add_user(stack))}"}
    assert client.delete(f"/api/v1/me/tokens/{first_id}", headers=other).status_code == 404  # not theirs
    assert client.delete(f"/api/v1/me/tokens/{first_id}", headers=bearer).json()["revoked_at"]
    assert client.get("/api/v1/me/tokens", headers=bearer).status_code == 401


def test_admins_revoke_tokens_disable_and_reset_passwords(client: TestClient, stack: Stack) -> None:
    from app.db import session_scope
    from app.models import AuditEntry

    admin = {"Authorization": f"Bearer {api_token(stack, add_user(stack, role='admin'))}"}
    name = add_user(stack)
    victim = {"Authorization": f"Bearer {api_token(stack, name)}"}
    [row] = client.get(f"/api/v1/admin/users/{name}/tokens", headers=admin).json()
    assert client.delete(f"/api/v1/admin/tokens/{row['id']}", headers=admin).status_code == 200
    assert client.get("/api/v1/me/tokens", headers=victim).status_code == 401
    r = client.post(f"/api/v1/admin/users/{name}/password", headers=admin)
    assert r.status_code == 200 and login(client, name, r.json()["password"]).status_code == 303
    assert client.put(f"/api/v1/admin/users/{name}/active", json={"active": False}, headers=admin).json()[
        "active"] is False
    assert not logged_in(client)
    with session_scope() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"token.revoke", "user.password", "user.disable", "user.create"} <= actions


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    with smtp_server() as inbox:
        yield inbox


def test_password_reset_by_mail(embedded: Stack, smtp: SmtpInbox) -> None:
    client = app_client("192.0.2.50", smtp_host="127.0.0.1", smtp_port=smtp.port, public_url="http://testserver")
    name = unique_name()
    token = csrf_of(client, "/register")
    client.post("/register", data={"name": name, "password": "old horse 1", "password2": "old horse 1",
                                   "email": f"{name}@example.org", "csrf_token": token})
    stolen = client.cookies.get("camp_session")
    client.cookies.clear()
    for who in (name, "nobody-" + name):  # the same answer for a name that does not exist
        r = client.post("/password/forgot", data={"name": who, "csrf_token": csrf_of(client, "/password/forgot")})
        assert r.status_code == 200 and "链接已经发出" in r.text
    [raw] = smtp.raw
    mail = message_from_bytes(raw)
    assert mail["To"] == f"{name}@example.org"
    body = mail.get_payload(decode=True).decode()
    link = re.search(r"http://testserver(/password/reset\?token=\S+)", body)
    assert link, body
    page = client.get(link.group(1))
    reset_token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    form = {"token": reset_token, "new": "new horse 2", "new2": "new horse 2",
            "csrf_token": csrf_of(client, link.group(1))}
    assert client.post("/password/reset", data=form, follow_redirects=False).status_code == 303
    form["csrf_token"] = csrf_of(client, "/account")  # logged in now, with a fresh CSRF token
    assert client.post("/password/reset", data=form).status_code == 400  # a link works once
    attacker = app_client()
    attacker.cookies.set("camp_session", stolen)
    assert not logged_in(attacker)
    assert login(app_client("192.0.2.51"), name, "new horse 2").status_code == 303


def test_admin_pages_disable_enable_and_reset_passwords(embedded_client: TestClient, embedded: Stack) -> None:
    from tests.support.staff import post_form, staff_client, user_id

    staff_client(embedded_client, embedded, "admin")
    victim = app_client()
    name = register(victim)
    r = post_form(embedded_client, f"/admin/users/{user_id(name)}/active", {"active": "0", "q": name},
                  "/admin/users")
    assert r.status_code == 303 and not logged_in(victim)
    page = embedded_client.get("/admin/users", params={"q": name}).text
    assert "已停用" in page or "停用" in page
    assert login(victim, name).status_code == 401
    post_form(embedded_client, f"/admin/users/{user_id(name)}/active", {"active": "1"}, "/admin/users")
    r = post_form(embedded_client, f"/admin/users/{user_id(name)}/password", {"q": name}, "/admin/users")
    new = re.search(r'data-role="new-password">([^<]+)<', r.text)
    assert r.status_code == 200 and new and r.headers["cache-control"] == "no-store"
    assert login(victim, name).status_code == 401 and login(victim, name, new.group(1)).status_code == 303


def test_argon2_runs_at_most_two_at_once(monkeypatch: pytest.MonkeyPatch, embedded: Stack) -> None:
    """24 parallel wrong log-ins once ran 24 argon2 hashes at once (1.6 GB, /healthz 5.6 s)."""
    import threading

    from app import security

    inside, most, lock = 0, 0, threading.Lock()
    real = security.hasher()

    class Counting:
        def verify(self, hashed: str, password: str) -> bool:
            nonlocal inside, most
            with lock:
                inside += 1
                most = max(most, inside)
            try:
                return real.verify(hashed, password)
            finally:
                with lock:
                    inside -= 1

    stored = security.hash_password("correct horse")
    counting = Counting()
    monkeypatch.setattr(security, "hasher", lambda: counting)
    threads = [threading.Thread(target=security.verify_password, args=(stored, f"guess-{i}")) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= most <= security.ARGON2_AT_ONCE


def test_the_reset_address_can_be_set_later(embedded_client: TestClient, embedded: Stack) -> None:
    from app.db import session_scope
    from app.models import User

    name = register(embedded_client)
    form = {"email": "not an address", "csrf_token": csrf_of(embedded_client, "/account")}
    r = embedded_client.post("/account/email", data=form)
    assert r.status_code == 422 and "不是有效的电子邮箱地址" in r.text
    form["email"] = f"{name}@example.org"
    assert embedded_client.post("/account/email", data=form, follow_redirects=False).status_code == 303
    assert "电子邮箱已保存" in embedded_client.get("/account?email_saved=1").text
    with session_scope() as session:
        assert session.scalar(select(User.email).where(User.name == name)) == f"{name}@example.org"
