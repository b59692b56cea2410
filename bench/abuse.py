"""Benchmark: one web process under the attacks of issue "accounts and availability under abuse".

    python bench/abuse.py [--samples N]

Starts Camp embedded (SQLite, no worker) in a temporary directory and measures, each time
against a baseline taken in the same run:
- /healthz latency alone, then while 24 and 100 slow uploads (1 MB announced, 1 byte sent)
  are open (bodies are read before admission; per-address cap raised so all are read);
- /healthz latency (p50, p99, max) while three 199-frame GIFs (380x380) are re-encoded, and
  the time to refuse the 299-frame GIF of the original attack and an 11.6 MB JSON body;
- 200 wrong passwords for one account: how many were checked by argon2 before the lock-out,
  and whether the right password then gets in (it must not).
Prints one table; docs/benchmarks.md records a run with the machine's load.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def camp(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, input=stdin,
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


@contextmanager
def server(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def gif(frames: int, side: int) -> bytes:
    images = []
    for i in range(frames):
        frame = Image.new("P", (side, side), 0)
        ImageDraw.Draw(frame).rectangle([i % side, i % side, i % side + 20, i % side + 20], fill=i % 250 + 1)
        images.append(frame)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=40, loop=0)
    return out.getvalue()


def healthz_times(url: str, n: int, stop: threading.Event | None = None) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=120) as client:
        while len(times) < n if stop is None else not stop.is_set():
            start = time.perf_counter()
            client.get("/healthz").raise_for_status()
            times.append(time.perf_counter() - start)
    return times


def ms(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms ({len(ordered)} requests)")


@contextmanager
def slow_uploads(url: str, count: int) -> Iterator[None]:
    host, port = url.removeprefix("http://").split(":")
    with ExitStack() as stack:
        for _ in range(count):
            s = stack.enter_context(socket.create_connection((host, int(port))))
            s.sendall(b"POST /api/v1/courses/dl-bootcamp/assignments/8/submissions HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n-")
        yield


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="camp-abuse-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMP_")}
    env.update(CAMP_DATA_DIR=str(work), CAMP_UPLOADS_PER_CLIENT="1000", CAMP_BODY_GRACE_SECONDS="600",
               CAMP_BODY_IDLE_SECONDS="600", PYTHONUNBUFFERED="1")
    camp(env, "db", "upgrade")
    camp(env, "course", "load", str(ROOT / "courses" / "dl-bootcamp.yaml"))
    camp(env, "user", "add", "bench-student", stdin="correct horse\n")
    token = camp(env, "token", "create", "bench-student")
    rows: list[tuple[str, str]] = [("load average before", " ".join(f"{x:.2f}" for x in os.getloadavg()))]
    with server(env) as url:
        healthz_times(url, 10)  # warm up
        rows.append(("/healthz alone (baseline)", ms(healthz_times(url, args.samples))))
        for count in (24, 100):
            with slow_uploads(url, count):
                times = healthz_times(url, args.samples)
            rows.append((f"/healthz with {count} slow uploads open", ms(times)))
        for frames, side in ((299, 700), (199, 380)):
            rows += three_gifs(url, token, frames, side)
        for label, body, kind in (("the 299-frame GIF of the attack", gif(299, 700), "gif"),
                                  ("a JSON body with a million keys",
                                   json.dumps({f"k{i}": i for i in range(1_000_000)}).encode(), "json")):
            start = time.perf_counter()
            if kind == "gif":
                r = httpx.post(url + "/api/v1/courses/dl-bootcamp/assignments/8/submissions",
                               headers={"Authorization": f"Bearer {token}"},
                               files={"files": ("a.gif", body, "image/gif")}, timeout=600)
            else:
                headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
                r = httpx.post(url + "/api/v1/courses/dl-bootcamp/replies", content=body, timeout=600,
                               headers=headers)
            rows.append((f"{label} ({len(body) // 1024} KB) refused", f"{r.status_code} in "
                         f"{(time.perf_counter() - start) * 1000:.0f} ms"))
        rows += lockout(url)
    rows.append(("load average after", " ".join(f"{x:.2f}" for x in os.getloadavg())))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def three_gifs(url: str, token: str, frames: int, side: int) -> list[tuple[str, str]]:
    """Three GIFs posted at once; /healthz sampled until all three are answered."""
    big = gif(frames, side)
    stop, statuses = threading.Event(), []

    def upload() -> None:
        r = httpx.post(url + "/api/v1/courses/dl-bootcamp/assignments/8/submissions",
                       headers={"Authorization": f"Bearer {token}"}, data={"text": "gif"},
                       files={"files": ("a.gif", big, "image/gif")}, timeout=600)
        statuses.append(r.status_code)

    started = time.perf_counter()
    uploads = [threading.Thread(target=upload) for _ in range(3)]
    for t in uploads:
        t.start()
    threading.Thread(target=lambda: ([t.join() for t in uploads], stop.set())).start()
    during = healthz_times(url, 0, stop)
    return [(f"three {frames}-frame {side}x{side} GIFs ({len(big) // 1024} KB each) at once",
             f"{time.perf_counter() - started:.1f} s, answers {sorted(statuses)}"),
            ("  /healthz meanwhile", ms(during))]


def lockout(url: str) -> list[tuple[str, str]]:
    with httpx.Client(base_url=url, timeout=60) as client:
        def attempt(password: str) -> httpx.Response:
            page = client.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf
            return client.post("/login", data={"name": "bench-student", "password": password,
                                                "csrf_token": csrf.group(1)})

        start = time.perf_counter()
        statuses = [attempt(f"guess-{i}").status_code for i in range(200)]
        spent = time.perf_counter() - start
        right = attempt("correct horse")
    return [("200 wrong passwords", f"{spent:.1f} s; {statuses.count(401)} checked by argon2 (401), "
                                    f"{statuses.count(429)} refused (429)"),
            ("then the right password",
             f"{right.status_code}, Retry-After {right.headers.get('retry-after')} s")]


if __name__ == "__main__":
    main()
