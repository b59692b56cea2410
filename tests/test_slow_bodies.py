"""Slow senders cannot stop the site: bodies are read under a time budget before a request takes
an admission slot, and one address may only send a few at once."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from tests.support.live import Live
from tests.support.stacks import Stack

PATH = "/api/v1/courses/dl-bootcamp/assignments/7-1/submissions"


@contextmanager
def slow_uploads(url: str, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections that announce a 1 MB body and send its first byte only."""
    host, port = url.removeprefix("http://").split(":")
    with ExitStack() as stack:
        socks = []
        for _ in range(count):
            s = stack.enter_context(socket.create_connection((host, int(port)), timeout=30))
            s.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                      f"Content-Length: 1000000\r\n\r\n-".encode())
            socks.append(s)
        yield socks


def healthz_seconds(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url + "/healthz", timeout=20) as r:
        assert r.status == 200
    return time.perf_counter() - start


def status_of(s: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body or b"{}")


@pytest.mark.parametrize("count", [24, 100])
def test_slow_uploads_leave_the_site_answering(embedded: Stack, count: int, live: Live) -> None:
    """The attack: 24 bodies at a byte a minute took every admission place and /healthz timed
    out for 60 s. Now they wait outside admission; /healthz answers (its time is printed, and
    docs/benchmarks.md records it; the test does not time it)."""
    with live(embedded, CAMP_UPLOADS_PER_CLIENT="1000", CAMP_BODY_GRACE_SECONDS="120",
                     CAMP_BODY_IDLE_SECONDS="120") as url, slow_uploads(url, count):
        times = [healthz_seconds(url) for _ in range(10)]
    print(f"{count} slow uploads: /healthz max {max(times) * 1000:.0f} ms")


def test_a_slow_sender_gets_408_and_one_address_only_a_few_at_once(embedded: Stack, live: Live) -> None:
    with live(embedded, CAMP_BODY_GRACE_SECONDS="1", CAMP_BODY_IDLE_SECONDS="1",
                     CAMP_UPLOADS_PER_CLIENT="2") as url:
        with slow_uploads(url, 3) as (first, second, third):
            status, body = status_of(third)
            assert status == 429 and body["code"] == "too_many"
            status, body = status_of(first)  # the byte a second never came
            assert status == 408 and body["code"] == "too_slow" and "太慢" in str(body["detail"])
            assert status_of(second)[0] == 408
        assert healthz_seconds(url) >= 0
