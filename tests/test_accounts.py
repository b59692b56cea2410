"""Accounts: argon2 hashes, sessions, tokens stored hashed, roles, the CLI."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.stacks import Stack
from tests.support.web import add_user, api_token, csrf_of, register, unique_name


def row(model: type, **where: object) -> object:
    from app.db import get_sessionmaker

    with get_sessionmaker()() as session:
        return session.scalar(select(model).filter_by(**where))


def test_register_stores_an_argon2_hash_and_logs_in(client: TestClient) -> None:
    from app.models import User

    name = register(client, password="s3cret-pass")
    user = row(User, name=name)
    assert user.password_hash.startswith("$argon2id$") and "s3cret-pass" not in user.password_hash
    assert name in client.get("/").text  # the header shows who is logged in


def test_wrong_password_and_duplicate_name(client: TestClient) -> None:
    name = register(client)
    client.cookies.clear()
    token = csrf_of(client, "/login")
    r = client.post("/login", data={"name": name, "password": "wrong-password", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    token = csrf_of(client, "/register")
    r = client.post("/register", data={"name": name, "password": "12345678", "password2": "12345678",
                                       "csrf_token": token})
    assert r.status_code == 409 and f"用户名 {name} 已被占用" in r.text


def test_register_validation_keeps_the_form(client: TestClient) -> None:
    token = csrf_of(client, "/register")
    r = client.post("/register", data={"name": "ok_name", "password": "short", "password2": "short",
                                       "csrf_token": token})
    assert r.status_code == 422 and "密码长度需为 8 到 256 个字符" in r.text and 'value="ok_name"' in r.text
    r = client.post("/register", data={"name": "<b>", "password": "12345678", "password2": "12345678",
                                       "csrf_token": token})
    assert r.status_code == 422 and "&lt;b&gt;" in r.text


def test_login_rotates_the_csrf_token_and_logout_ends_the_session(client: TestClient) -> None:
    before = csrf_of(client, "/login")
    name = register(client)
    after = csrf_of(client, "/")
    assert before != after
    client.post("/logout", data={"csrf_token": after})
    assert name not in client.get("/").text
    assert client.get("/me/submissions", headers={"Accept": "text/html"}).status_code == 401


def test_open_redirect_after_login_is_refused(client: TestClient) -> None:
    token = csrf_of(client, "/register")
    r = client.post("/register", data={"name": unique_name(), "password": "12345678", "password2": "12345678",
                                       "csrf_token": token, "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_tokens_are_stored_hashed_and_work_for_the_api(client: TestClient, stack: Stack) -> None:
    from app.models import ApiToken

    name = add_user(stack)
    token = api_token(stack, name)
    assert token.startswith("camp_") and len(token) > 40
    stored = row(ApiToken, token_hash=hashlib.sha256(token.encode()).hexdigest())
    assert stored is not None and token not in repr(vars(stored))
    me = client.get("/api/v1/me/submissions", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json() == []


def test_cli_user_add_reads_the_password_from_stdin(stack: Stack) -> None:
    name = unique_name("cli")
    # the console command itself once, in an interpreter of its own; then in this process
    result = stack.camp_process("user", "add", name, "--role", "instructor", stdin="from-stdin-123\n")
    assert result.returncode == 0 and "instructor" in result.stdout
    assert "from-stdin-123" not in result.stdout + result.stderr
    again = stack.camp("user", "add", name, stdin="from-stdin-123\n")
    assert again.returncode != 0 and "taken" in again.stderr
    weak = stack.camp("user", "add", unique_name("cli"), stdin="short\n")
    assert weak.returncode != 0 and "8 to 256" in weak.stderr
    assert stack.camp("token", "create", "nobody-here").returncode != 0


def test_role_change_is_audited(client: TestClient, stack: Stack) -> None:
    from app.db import get_sessionmaker
    from app.models import AuditEntry
    from app.services.audit import verify_chain

    admin = {"Authorization": f"Bearer {api_token(stack, add_user(stack, 'admin'))}"}
    target = add_user(stack)
    r = client.put(f"/api/v1/admin/users/{target}/role", json={"role": "instructor"}, headers=admin)
    assert r.status_code == 200 and r.json()["role"] == "instructor"
    with get_sessionmaker()() as session:
        last = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert last.action == "user.role" and last.data == {"from": "student", "to": "instructor"}
        assert verify_chain(session) is None
