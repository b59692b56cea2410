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


def _closed_by_server(s: socket.socket) -> bool:
    """Waits (at most the socket's timeout) for the server to end the connection."""
    try:
        return s.recv(4096) == b""
    except TimeoutError:
        return False


def _whole_answer(s: socket.socket) -> bytes:
    """One answer with a Content-Length, head and body, and nothing of the next."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += s.recv(4096)
    assert len(body) == length
    return data


def test_request_heads_sent_a_byte_at_a_time_end_their_connections(embedded: Stack, live: Live) -> None:
    """Slowloris: connections that send their request line and headers a byte at a time, or
    nothing at all, were held for ever (uvicorn times nothing out before a request's head, and
    any byte cancels its keep-alive timer), each with a file descriptor and up to 16 KB of head.
    Now a head must be whole within CAMP_REQUEST_HEAD_SECONDS of the connection's opening or
    of the previous response; a request under way and a quick second request on a kept-alive
    connection are not cut."""
    with live(embedded, CAMP_REQUEST_HEAD_SECONDS="2") as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as silent, \
                socket.create_connection((host, int(port)), timeout=30) as dribbling:
            dribbling.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ")
            sent = 0
            dribbling.settimeout(0.2)
            while sent < 150 and not _closed_by_server(dribbling):  # a byte each 0.2 s, 30 s at most
                try:
                    dribbling.sendall(b"a")
                except OSError:
                    break
                sent += 1
            assert sent < 150, "the server still waits for the head after 30 s"
            assert _closed_by_server(silent)
        with socket.create_connection((host, int(port)), timeout=30) as kept:
            for _ in range(2):  # two requests on one connection, each sent in two pieces
                kept.sendall(b"GET /healthz HTTP/1.1\r\n")
                kept.sendall(b"Host: x\r\n\r\n")
                assert _whole_answer(kept).startswith(b"HTTP/1.1 200")
        with socket.create_connection((host, int(port)), timeout=30) as stream:
            stream.sendall(b"GET /courses/dl-bootcamp/posts/events HTTP/1.1\r\nHost: x\r\n"
                           b"Accept: text/event-stream\r\n\r\n")
            assert stream.recv(4096).startswith(b"HTTP/1.1 200")
            stream.settimeout(4)  # twice the head's time: the stream is a request under way
            assert not _closed_by_server(stream)


def _server_pid(port: int) -> int:
    """The `camp serve` process listening on `port` (one uvicorn process: it serves itself)."""
    from pathlib import Path

    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in words and b"--port" in words and words[words.index(b"--port") + 1] == str(port).encode():
            return int(cmdline.parent.name)
    raise AssertionError(f"no server on port {port}")


def _rss_mb(pid: int) -> float:
    from pathlib import Path

    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _public_image(size: int) -> int:
    """An attachment of `size` bytes shown to anyone (an image on open homework)."""
    import os

    from app import storage
    from app.db import session_scope
    from app.models import Attachment
    from tests.support.homework import Reply, add_replies, make_course, make_users

    slug = make_course({"code": "1-1"})
    [sid] = add_replies(slug, "1-1", [Reply(make_users(1)[0])])
    digest = storage.put(os.urandom(size))
    with session_scope() as session:
        item = Attachment(submission_id=sid, filename="big.png", sha256=digest, size=size, kind="image",
                          content_type="image/png")
        session.add(item)
        session.flush()
        return item.id


def _growth_with_unread(url: str, path: str, count: int) -> float:
    """MB the server's resident memory grows by while `count` connections (a receive buffer of
    4 KB each) have asked for `path` and read nothing past the status line."""
    host, port = url.removeprefix("http://").split(":")
    pid = _server_pid(int(port))
    before = _rss_mb(pid)
    with ExitStack() as stack:
        for _ in range(count):
            s = stack.enter_context(socket.socket())
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(30)
            s.connect((host, int(port)))
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert s.recv(12) == b"HTTP/1.1 200"
        assert healthz_seconds(url) >= 0  # the server went round its loop after them all
        return _rss_mb(pid) - before


def test_downloads_left_unread_do_not_fill_the_servers_memory(embedded: Stack, live: Live) -> None:
    """Slow reading: an anonymous visitor asks for a public 8 MB image on 25 connections that
    read nothing (a receive buffer of 4 KB). The whole file went to each connection's send
    buffer in the process (about 200 MB held for as long as the visitor liked); it is sent a
    piece at a time now, the next piece when the client took the last. The server's resident
    memory is compared before and after, with a wide margin."""
    size, count = 8 * 1024 * 1024, 25
    attachment = _public_image(size)
    with live(embedded) as url:
        with urllib.request.urlopen(f"{url}/files/{attachment}", timeout=30) as r:  # warm, and whole
            assert len(r.read()) == size and r.headers["content-length"] == str(size)
        grown = _growth_with_unread(url, f"/files/{attachment}", count)
        print(f"{count} unread downloads of {size >> 20} MB: the server grew by {grown:.0f} MB")
        assert grown < 60, f"{grown:.0f} MB held for clients that read nothing"


def _homework_of_long_replies(replies: int, chars: int) -> str:
    """A homework page (open answers) of `replies` replies of `chars` characters each; its URL path."""
    from sqlalchemy import update

    from app.db import session_scope
    from app.models import Submission
    from tests.support.homework import Reply, add_replies, make_course, make_users

    slug = make_course({"code": "1-1"})
    author = make_users(1)[0]
    ids = add_replies(slug, "1-1", [Reply(author) for _ in range(replies)])
    with session_scope() as session:
        for i, sid in enumerate(ids):
            text = f"作业1-1：{i} " + "&" * chars  # each `&` is five bytes of HTML (`&amp;`)
            session.execute(update(Submission).where(Submission.id == sid).values(text=text[:chars]))
    return f"/courses/{slug}/assignments/1-1"


def test_pages_left_unread_do_not_fill_the_servers_memory(embedded: Stack, live: Live) -> None:
    """The same with a homework page: a student posts 50 replies of 60,000 `&` (each is five
    bytes of HTML, so the page weighs 14 MB) and an anonymous script asks for it on 25
    connections that read nothing. The page is one cached copy, but handed to the server whole
    it was copied into each connection's buffer (282 MB); it goes out 64 KB at a time now."""
    path, count = _homework_of_long_replies(50, 60_000), 25
    with live(embedded) as url:
        for _ in range(2):  # rendered, then served from the anonymous page cache
            with urllib.request.urlopen(url + path, timeout=60) as r:
                size = len(r.read())
        assert size > 3_000_000
        grown = _growth_with_unread(url, path, count)
        print(f"{count} unread copies of a {size >> 20} MB page: the server grew by {grown:.0f} MB")
        assert grown < 30, f"{grown:.0f} MB held for clients that read nothing"


def _reset_by_server(s: socket.socket) -> bool:
    import errno

    return s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNRESET


def test_a_client_that_reads_nothing_loses_its_connection(embedded: Stack, live: Live) -> None:
    """Streamed or not, an answer the client never reads held its connection (and the task
    sending it) for ever: uvicorn has no timeout for a client that stopped reading. Now the
    connection is dropped when nothing was taken for CAMP_SEND_IDLE_SECONDS."""
    from tests.support.stacks import wait_for

    attachment = _public_image(8 * 1024 * 1024)
    with live(embedded, CAMP_SEND_IDLE_SECONDS="1") as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect((host, int(port)))
            s.sendall(f"GET /files/{attachment} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert wait_for(lambda: _reset_by_server(s), timeout=30)
        with urllib.request.urlopen(f"{url}/files/{attachment}", timeout=30) as r:  # a reader gets it all
            assert len(r.read()) == 8 * 1024 * 1024


def test_a_chunked_body_that_claims_a_length_of_zero_is_refused(embedded: Stack, live: Live) -> None:
    """`Content-Length: 0` with `Transfer-Encoding: chunked`: the server reads the chunked body
    (the transfer coding wins), but the body reader took the request for one without a body
    and let it through unread. Its handler then read the body at the sender's pace inside an
    admission place (the slow-body attack again, on any form or JSON route) and the JSON and
    form screens never saw it. Both headers at once are refused now (400); a chunked body alone
    is read under the budget like any other (408 when it stops)."""
    with live(embedded, CAMP_BODY_GRACE_SECONDS="1", CAMP_BODY_IDLE_SECONDS="1") as url:
        host, port = url.removeprefix("http://").split(":")
        head = ("POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                "{}Transfer-Encoding: chunked\r\n\r\n1\r\nn\r\n")
        for framing, expected in (("Content-Length: 0\r\n", 400), ("", 408)):
            with socket.create_connection((host, int(port)), timeout=30) as s:
                s.sendall(head.format(framing).encode())
                status, body = status_of(s)  # the rest of the body never comes
                assert status == expected, (framing, body)
