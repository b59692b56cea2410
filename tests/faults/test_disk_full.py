"""The upload disk fills up under a running server: a clear 507, not a bare 500.

Proves: with the data directory on a small real filesystem (a tmpfs of its own) filled to the
last byte, a reply with a code package answers `507` in JSON with a message in the reader's
language (zh-CN by default, English on request) and a Retry-After header; no row is left and
no floor taken; /healthz reports the free space as `low` (status `degraded`). Once space is
freed the same reply is accepted. Needs root to mount the tmpfs (skipped otherwise).
"""

from __future__ import annotations

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.kit import WebServer, student_tokens

PACKAGE = ("predict.py", b"def predict(images):\n    return [0] * len(images)\n" + b"#" * 200_000, "text/x-python")


@contextlib.contextmanager
def small_disk(path: Path, size: str = "8m") -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> Path:
    """Write until the filesystem refuses: ENOSPC."""
    filler = path / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@pytest.mark.slow
def test_a_full_disk_answers_507_with_a_message_and_nothing_is_half_written(make_stack, tmp_path) -> None:
    with small_disk(tmp_path / "disk") as disk, make_stack(CAMP_DATA_DIR=str(disk),
                                                           CAMP_MIN_FREE_DISK_MB="1") as fs:
        [headers] = student_tokens(1)
        web = WebServer(fs.stack)
        web.start()
        url = f"{web.url}/api/v1/courses/dl-bootcamp/assignments/6-2/submissions"
        try:
            with httpx.Client(timeout=30) as client:
                assert client.get(f"{web.url}/healthz").json()["disk"]["status"] == "ok"
                filler = fill(disk)
                refused = client.post(url, data={"text": "作业6-2：代码"}, files={"files": PACKAGE}, headers=headers)
                english = client.post(url, data={"text": "作业6-2：代码"}, files={"files": PACKAGE},
                                      headers=headers | {"Accept-Language": "en"})
                health = client.get(f"{web.url}/healthz")
                filler.unlink()
                accepted = client.post(url, data={"text": "作业6-2：代码"}, files={"files": PACKAGE}, headers=headers)
        finally:
            web.stop()

        assert refused.status_code == english.status_code == 507
        assert refused.headers["content-type"] == "application/json"
        assert refused.json() == {"code": "storage_full",
                                  "detail": "Camp 的存储空间暂时已满，本次内容没有保存。请稍后再试。"}
        assert english.json()["detail"] == ("Camp's storage is full right now; nothing was saved. "
                                            "Please try again later.")
        assert int(refused.headers["retry-after"]) > 0
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        assert health.json()["disk"]["status"] == "low" and health.json()["disk"]["free_bytes"] < 1024 * 1024
        assert accepted.status_code == 201, accepted.text
        assert fs.rows("SELECT floor FROM submissions") == [(1,)]  # the refused replies left nothing
        print(f"\nfull disk: {refused.status_code} {refused.json()['code']}, Retry-After "
              f"{refused.headers['retry-after']} s; /healthz disk {health.json()['disk']}")
