"""Attachments in the thread: screenshots re-encoded without metadata and shown inline, a code
package stored and graded by a real worker, fake and oversized images refused clearly."""

from __future__ import annotations

import asyncio
import hashlib
import io
import socket
import zipfile
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import pytest
from fastapi import UploadFile
from fastapi.testclient import TestClient
from PIL import Image

from app.errors import TooLarge, UnsupportedMedia
from app.services.images import strip_metadata
from app.services.uploads import check_file
from app.upload_reader import CHUNK, read_uploads
from tests.support.live import Live
from tests.support.stacks import PROJECT_ROOT, Stack, wait_for
from tests.support.thread import account, png_with_gps

REPLIES = "/api/v1/courses/dl-bootcamp/replies"
BASELINE = PROJECT_ROOT / "examples" / "mnist-lenet"
MB = 1024 * 1024


def baseline_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("predict.py", "lenet.npz"):
            zf.write(BASELINE / name, name)
    return buffer.getvalue()


def no_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        return 0x8825 not in exif and 0x010F not in exif and b"CampTestCamera" not in data


def test_two_screenshots_and_a_code_zip_are_stored_shown_and_graded(client: TestClient, running_worker: Stack) -> None:
    _, auth = account(running_worker)
    text = ("作业6-1：\n(4) 训练集和测试集的 Loss 曲线：![loss](loss.png)\n准确率见 acc.jpg\n"
            "作业6-2：LeNet 基线，代码和权重在附件里")
    loss, acc = png_with_gps(), png_with_gps(color=(20, 90, 200), fmt="JPEG")
    package = baseline_zip()
    files = [("files", ("loss.png", loss, "image/png")), ("files", ("acc.jpg", acc, "image/jpeg")),
             ("files", ("mnist-lenet.zip", package, "application/zip"))]
    r = client.post(REPLIES, data={"text": text}, files=files, headers=auth)
    assert r.status_code == 201, r.text
    parts = {p["assignment"]: p for p in r.json()["parts"]}
    assert parts["6-1"]["files"] == ["loss.png", "acc.jpg"] and parts["6-2"]["files"] == ["mnist-lenet.zip"]

    essay = client.get(f"/api/v1/submissions/{parts['6-1']['submission_id']}", headers=auth).json()
    assert [(a["filename"], a["kind"]) for a in essay["attachments"]] == [("loss.png", "image"), ("acc.jpg", "image")]
    for attachment, original, mime in zip(essay["attachments"], (loss, acc), ("image/png", "image/jpeg"),
                                          strict=True):
        served = client.get(attachment["url"], headers=auth)  # 6-1 is a lottery: sealed to others
        assert served.status_code == 200 and served.headers["content-type"] == mime
        assert served.headers["x-content-type-options"] == "nosniff"
        assert no_gps(served.content) and served.content != original  # re-encoded, metadata gone
        digest = hashlib.sha256(served.content).hexdigest()
        assert (running_worker.data_dir / "blobs" / digest[:2] / digest[2:]).read_bytes() == served.content

    # shown inline: the named one where the Markdown put it, the other after the text
    page = client.get(parts["6-1"]["url"].split("#")[0], headers=auth).text
    reply = page.split(f'id="floor-{parts["6-1"]["floor"]}"')[1].split("</li>")[0]
    loss_id, acc_id = (a["id"] for a in essay["attachments"])
    assert f'<img class="shot" src="/files/{loss_id}" alt="loss"' in reply
    assert f'<img class="shot" src="/files/{acc_id}" alt="acc.jpg"' in reply

    def graded() -> dict | None:
        body = client.get(f"/api/v1/submissions/{parts['6-2']['submission_id']}", headers=auth).json()
        return body if body["status"] in ("scored", "failed", "rejected") else None

    code = wait_for(graded, timeout=120)
    assert code["status"] == "scored" and code["verdict"] == "accepted", running_worker.worker_log()[-3000:]
    assert 0.95 <= code["score"] <= 1.0
    assert [a["filename"] for a in code["attachments"]] == ["mnist-lenet.zip"]
    stored = running_worker.data_dir / "blobs" / hashlib.sha256(package).hexdigest()[:2]
    assert (stored / hashlib.sha256(package).hexdigest()[2:]).read_bytes() == package


def test_a_file_claiming_to_be_png_is_refused_with_a_clear_message(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    for name, data in [("curve.png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
                       ("curve.png", b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10),
                       ("photo.jpg", b"GIF89a" + b"\0" * 40)]:
        r = client.post(REPLIES, data={"text": "作业8：看图"}, files={"files": (name, data, "image/png")},
                        headers=auth)
        assert r.status_code == 415, r.text
        assert r.json()["detail"] == f"文件 {name} 不是有效的 PNG、JPEG、WebP 或 GIF 图片"
    english = client.post(REPLIES, data={"text": "作业8：x"}, files={"files": ("a.png", b"nope", "image/png")},
                          headers={**auth, "Accept-Language": "en"})
    assert english.json()["detail"] == "The file a.png is not a valid PNG, JPEG, WebP or GIF image"


def test_a_30_mb_image_is_refused(client: TestClient, stack: Stack) -> None:
    _, auth = account(stack)
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (30 * MB)
    r = client.post(REPLIES, data={"text": "作业8：大图"}, files={"files": ("huge.png", big, "image/png")},
                    headers=auth)
    assert r.status_code == 413 and "MB" in r.json()["detail"]


def test_a_30_mb_upload_is_answered_before_its_body_is_sent(embedded: Stack, live: Live) -> None:
    """The server refuses on the declared length: the client sends headers and no body at all."""
    with live(embedded) as url:
        target = urlparse(url)
        with socket.create_connection((target.hostname, target.port), timeout=10) as sock:
            head = (f"POST {REPLIES} HTTP/1.1\r\nHost: {target.netloc}\r\n"
                    f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {30 * MB}\r\n\r\n")
            sock.sendall(head.encode())
            answer = b""
            while b"}" not in answer and (chunk := sock.recv(4096)):
                answer += chunk
    text = answer.decode("utf-8", "replace")
    assert text.startswith("HTTP/1.1 413"), text
    assert "MB" in text.split("\r\n\r\n", 1)[1]


class CountingStream(io.RawIOBase):
    """30 MB of image-looking bytes that counts how much was read."""

    def __init__(self, size: int) -> None:
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"\0" * n
        self.read_bytes += n
        return n


def test_reading_an_upload_stops_at_the_cap() -> None:
    """Without a declared size (chunked upload), reading stops one chunk past the cap."""
    stream = CountingStream(30 * MB)
    upload = UploadFile(io.BufferedReader(stream, buffer_size=CHUNK), filename="huge.png")
    with pytest.raises(TooLarge), ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever runs here
        pool.submit(asyncio.run, read_uploads([upload], 20 * MB)).result()
    assert stream.read_bytes <= 20 * MB + 2 * CHUNK


def test_images_over_the_image_cap_are_refused_before_decoding() -> None:
    with pytest.raises(TooLarge) as refused:
        check_file("scan.png", b"\x89PNG" + b"\0" * (11 * MB), max_bytes=20 * MB)
    assert refused.value.params["name"] == "scan.png"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_metadata_is_stripped_in_every_format(fmt: str) -> None:
    data = png_with_gps(fmt=fmt)
    assert not no_gps(data)  # the test image really carries GPS
    clean = strip_metadata(f"x.{fmt.lower()}", data, fmt)
    assert no_gps(clean)
    with Image.open(io.BytesIO(clean)) as img:
        assert img.format == fmt and img.size == (64, 48)


def test_png_text_chunks_and_trailing_bytes_do_not_survive() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(out, "PNG", pnginfo=info)
    data = out.getvalue() + b"<html><script>alert(2)</script></html>"
    clean = check_file("polyglot.png", data, max_bytes=MB).data
    assert b"script" not in clean
    with Image.open(io.BytesIO(clean)) as img:
        assert img.mode == "RGBA" and img.getpixel((0, 0)) == (0, 0, 0, 0)


def test_an_animated_gif_keeps_its_frames() -> None:
    frames = [Image.new("RGB", (10, 10), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0,
                   comment=b"secret location")
    clean = check_file("anim.gif", out.getvalue(), max_bytes=MB).data
    assert b"secret location" not in clean
    with Image.open(io.BytesIO(clean)) as img:
        assert img.n_frames == 3 and img.info.get("duration") == 120


def test_a_photo_is_turned_upright_before_its_exif_is_dropped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (255, 0, 0)).save(out, "JPEG", exif=exif.tobytes())
    clean = check_file("phone.jpg", out.getvalue(), max_bytes=MB).data
    with Image.open(io.BytesIO(clean)) as img:
        assert img.size == (20, 40) and not img.getexif()


def test_not_an_image_in_strip_metadata_is_unsupported() -> None:
    with pytest.raises(UnsupportedMedia):
        strip_metadata("x.png", b"garbage", "PNG")
