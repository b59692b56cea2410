"""Per-address limits against forged proxy headers, replayed through a real `camp serve` (the
proxy headers are uvicorn's, so an in-process client would not see them): a direct client names
itself another address in every header a proxy might set; a client behind a trusted proxy does
the same in the part of X-Forwarded-For it controls. The limit used is the reset mails' (five
per address per hour, no password hashing); the others read the same address."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.support.live import Live
from tests.support.stacks import Stack
from tests.support.web import csrf_in

#: a second loopback address, so the server sees a peer that is not the local host (as a proxy
#: on the host reaches a container from its network's gateway)
PEER = "127.0.0.2"
RESETS_PER_HOUR = 5


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=PEER), timeout=30)


def _forgot(client: httpx.Client, headers: dict[str, str]) -> int:
    token = csrf_in(client.get("/password/forgot").text, "/password/forgot")
    return client.post("/password/forgot", data={"name": "nobody", "csrf_token": token},
                       headers=headers).status_code


def _spoofed(i: int) -> str:
    return f"198.51.100.{i + 1}"


def _forget_resets(address: str) -> None:
    """Other tests of this stack may have asked from this address."""
    from app.db import session_scope
    from app.services import throttle

    with session_scope() as session:
        throttle.clear(session, f"reset:addr:{address}")


def _test_net_address() -> str:
    return f"203.0.113.{secrets.randbelow(250) + 1}"


def test_a_direct_client_cannot_pick_the_address_it_is_counted_as(stack: Stack, live: Live) -> None:
    """Each request names a new address in X-Forwarded-For, Forwarded, X-Real-IP and the CDN
    headers: all are the peer's, refused after the hour's five."""
    _forget_resets(PEER)
    with live(stack) as url, _client(url) as client:
        codes = [_forgot(client, {
            "x-forwarded-for": _spoofed(i), "forwarded": f"for={_spoofed(i)}", "x-real-ip": _spoofed(i),
            "true-client-ip": _spoofed(i), "cf-connecting-ip": _spoofed(i), "x-client-ip": _spoofed(i),
        }) for i in range(RESETS_PER_HOUR + 2)]
    assert codes == [200] * RESETS_PER_HOUR + [429, 429]


def test_behind_a_trusted_proxy_each_client_counts_alone(stack: Stack, live: Live) -> None:
    """The proxy appends the address it saw (nginx's `$proxy_add_x_forwarded_for`) to whatever
    the client sent: the client's own leftmost entries, trusted-looking ones included, change
    nothing; another client behind the same proxy still has its five. Before
    `CAMP_TRUSTED_PROXIES` a proxy that was not the local host (docker-compose's) made every
    client one address: five reset mails, ten sign-ups an hour and four uploads at once for
    the whole site."""
    first, second = _test_net_address(), _test_net_address()
    while second == first:
        second = _test_net_address()
    _forget_resets(first)
    _forget_resets(second)
    with live(stack, CAMP_TRUSTED_PROXIES="127.0.0.0/29") as url, _client(url) as client:
        codes = [_forgot(client, {"x-forwarded-for": f"{_spoofed(i)}, 127.0.0.2, {first}"})
                 for i in range(RESETS_PER_HOUR + 1)]
        other = _forgot(client, {"x-forwarded-for": second})
    assert codes == [200] * RESETS_PER_HOUR + [429]
    assert other == 200


def test_a_proxy_setting_that_names_no_address_is_refused() -> None:
    from pydantic import ValidationError

    from app.config import Settings

    for wrong in ("proxy.internal", "10.0.0.1/33", "172.30.57.1/24", "127.0.0.1,*"):
        with pytest.raises(ValidationError, match="CAMP_TRUSTED_PROXIES"):
            Settings(trusted_proxies=wrong)
    assert Settings(trusted_proxies=" 172.30.57.0/24, ::1 ").trusted_proxies


def test_an_ipv6_client_counts_as_its_64_whatever_address_it_takes(stack: Stack) -> None:
    """An IPv6 subscriber gets a /64 and may use a new address in it for every request: each
    was a new client for the per-address limits (here the reset mails' five an hour; sign-ups,
    wrong passwords, uploads, searches and anonymous streams count the same key). Its /64 is
    one client now; the next /64 is another, and IPv4 in IPv6 is the IPv4 address."""
    from tests.support.web import app_client, csrf_of

    site, subnet = secrets.randbelow(0x10000), secrets.randbelow(0xffff)
    prefix = f"2001:db8:{site:x}:{subnet:x}"

    def forgot(address: str) -> int:
        client = app_client(address)
        token = csrf_of(client, "/password/forgot")
        return client.post("/password/forgot", data={"name": "nobody", "csrf_token": token}).status_code

    codes = [forgot(f"{prefix}::{i + 1:x}") for i in range(RESETS_PER_HOUR + 1)]
    assert codes == [200] * RESETS_PER_HOUR + [429]
    assert forgot(f"{prefix}:0:ffff:ffff:ffff") == 429  # the same /64, written out in full
    assert forgot(f"2001:db8:{site:x}:{subnet + 1:x}::1") == 200  # a neighbour's /64

    from app.addresses import address_key

    assert address_key("::ffff:192.0.2.7") == "192.0.2.7" == address_key("192.0.2.7")
    assert address_key("testclient") == "testclient" and address_key(None) == "unknown"
