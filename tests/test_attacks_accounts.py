"""Attacks on accounts replayed as a hostile user would try them (see docs/abuse.md, "Tried as
an attacker"): reset links bent by a forged Host header, names that pass for the staff."""

from __future__ import annotations

import re
import secrets
from email import message_from_bytes

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.support.mailbox import smtp_server
from tests.support.stacks import Stack
from tests.support.web import app_client, csrf_of, register, unique_name


def _register_with_mail(client: TestClient) -> str:
    name = unique_name()
    form = {"name": name, "password": "old horse 1", "password2": "old horse 1",
            "email": f"{name}@example.org", "csrf_token": csrf_of(client, "/register")}
    assert client.post("/register", data=form, follow_redirects=False).status_code == 303
    client.cookies.clear()
    return name


def _forgot_with_forged_host(client: TestClient, name: str) -> None:
    token = csrf_of(client, "/password/forgot")
    r = client.post("/password/forgot", data={"name": name, "csrf_token": token},
                    headers={"host": "evil.example"})
    assert r.status_code == 200


def _body(raw: bytes) -> str:
    return str(message_from_bytes(raw).get_payload(decode=True).decode())


def test_smtp_without_the_sites_address_is_refused_at_start() -> None:
    from app.config import Settings

    with pytest.raises(ValidationError, match="CAMP_PUBLIC_URL"):
        Settings(smtp_host="127.0.0.1")
    with pytest.raises(ValidationError, match="CAMP_PUBLIC_URL"):
        Settings(smtp_host="127.0.0.1", public_url="https://camp.example.org/?next=//evil.example")


def test_reset_mail_never_links_to_the_host_a_request_names(embedded: Stack) -> None:
    """An attacker asks for the victim's reset with `Host: evil.example`: the mailed link used
    to point there, handing the attacker the token when the victim clicked it."""
    with smtp_server() as inbox:
        # a configuration the validator refuses, made anyway: no link may be built from the request
        bare = app_client(smtp_host="127.0.0.1", smtp_port=inbox.port, public_url="")
        _forgot_with_forged_host(bare, _register_with_mail(bare))
        assert not any("evil.example" in _body(m) for m in inbox.raw)
        assert inbox.raw == []

        client = app_client(smtp_host="127.0.0.1", smtp_port=inbox.port, public_url="https://camp.example.org")
        _forgot_with_forged_host(client, _register_with_mail(client))
        [raw] = inbox.raw
        body = _body(raw)
        assert "evil.example" not in body
        assert re.search(r"https://camp\.example\.org/password/reset\?token=\S+", body), body


@pytest.mark.parametrize("name", ["admin", "Admin_1", "аdmin", "ａｄｍｉｎ", "ad.min", "管理员", "飞桨官方",
                                  "张老师", "助教小王", "Camp", "official-news"])
def test_students_cannot_register_names_that_pass_for_the_staff(embedded: Stack, name: str) -> None:
    """A student registered `助教` (teaching assistant) or a look-alike of `admin` and posted
    "winners' list, send your address here" in the thread."""
    client = app_client()
    form = {"name": name, "password": "12345678", "password2": "12345678",
            "csrf_token": csrf_of(client, "/register")}
    r = client.post("/register", data=form, follow_redirects=False)
    assert r.status_code == 422 and "留给 Camp 的工作人员" in r.text
    assert client.get("/api/v1/me/submissions").status_code == 401


@pytest.mark.parametrize("name", ["adam", "modest", "张伟", "tanaka", "mina_2024"])
def test_ordinary_names_still_register(embedded: Stack, name: str) -> None:
    client = app_client()
    unique = name + unique_name("")[-4:]
    form = {"name": unique, "password": "12345678", "password2": "12345678",
            "csrf_token": csrf_of(client, "/register")}
    assert client.post("/register", data=form, follow_redirects=False).status_code == 303


def _log_in(client: TestClient, name: str, password: str = "correct horse") -> int:
    form = {"name": name, "password": password, "csrf_token": csrf_of(client, "/login")}
    return client.post("/login", data=form, follow_redirects=False).status_code


def test_wrong_passwords_from_others_cannot_lock_the_owner_out_of_their_browser(embedded: Stack) -> None:
    """A classmate behind the same campus NAT typed wrong passwords for a rival's name until the
    account and the address were locked: the rival could not log in before the deadline."""
    limits = {"login_free_failures": 2, "login_lock_failures": 3, "login_address_lock_failures": 4}
    nat = f"198.51.100.{secrets.randbelow(200) + 20}"
    owner = app_client(nat, **limits)
    name = register(owner)
    owner.post("/logout", data={"csrf_token": csrf_of(owner, "/")})
    attacker = app_client(nat, **limits)
    statuses = [_log_in(attacker, name, f"guess-{i}") for i in range(6)]
    assert statuses[-1] == 429 and _log_in(app_client(nat, **limits), name) == 429  # still locked for others

    assert _log_in(owner, name) == 303  # the owner's own browser
    owner.post("/logout", data={"csrf_token": csrf_of(owner, "/")})
    # guessing from a browser that knows the account is slowed and locked on its own
    assert [_log_in(owner, name, f"wrong-{i}") for i in range(4)][-1] == 429
