"""Unpacking untrusted code packages: every bad archive is a clear `bad_package`, never a crash."""

from __future__ import annotations

import io
import stat
import struct
import zipfile

import pytest

import grader
from grader.archive import PackageError, unpack_package
from tests.grader.graderkit import FAST, zip_bytes

GOOD = "def predict(images):\n    return [0] * len(images)\n"


def _unpack(tmp_path, files, limits=FAST):
    dest = tmp_path / "pkg"
    dest.mkdir(parents=True)
    unpack_package(files, dest, limits)
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))


def _zip_with(entries):
    """A zip whose entries are (ZipInfo or name, data) pairs, written as given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buffer.getvalue()


def _patch_headers(data: bytes, name: str, patch) -> bytes:
    """Apply `patch(raw, offset, kind)` to the local and central headers of entry `name`."""
    raw, encoded = bytearray(data), name.encode()
    for signature, name_len_at, name_at, kind in ((b"PK\x03\x04", 26, 30, "local"),
                                                   (b"PK\x01\x02", 28, 46, "central")):
        at = raw.find(signature)
        while at != -1:
            name_len = struct.unpack_from("<H", raw, at + name_len_at)[0]
            if raw[at + name_at : at + name_at + name_len] == encoded:
                patch(raw, at, kind)
            at = raw.find(signature, at + 4)
    return bytes(raw)


def _lying_sizes(data: bytes, name: str, claimed: int) -> bytes:
    """Claim another uncompressed size for `name` (offset 22 local, 24 central)."""
    return _patch_headers(data, name, lambda raw, at, kind: struct.pack_into(
        "<I", raw, at + (22 if kind == "local" else 24), claimed))


def _encrypted(data: bytes, name: str) -> bytes:
    """Set the 'encrypted' flag bit (offset 6 local, 8 central); zipfile never writes it."""
    def flag(raw, at, kind):
        raw[at + (6 if kind == "local" else 8)] |= 0x1
    return _patch_headers(data, name, flag)


def test_plain_py_becomes_predict_py(tmp_path):
    assert _unpack(tmp_path, {"my_model.py": GOOD.encode(), "loss.png": b"\x89PNG"}) == ["predict.py"]


def test_zip_root_and_single_top_folder(tmp_path):
    flat = zip_bytes({"predict.py": GOOD, "w/weights.npz": b"x"})
    assert _unpack(tmp_path / "a", {"p.zip": flat}) == ["predict.py", "w", "w/weights.npz"]
    nested = zip_bytes({"mnist/predict.py": GOOD, "mnist/model.py": "", "__MACOSX/mnist/._predict.py": "",
                        "mnist/.DS_Store": ""})
    assert _unpack(tmp_path / "b", {"p.zip": nested}) == ["model.py", "predict.py"]


def _refused(tmp_path, files, match, limits=FAST):
    with pytest.raises(PackageError, match=match) as caught:
        _unpack(tmp_path, files, limits)
    assert caught.value.zh and caught.value.en
    return caught.value


@pytest.mark.parametrize(
    "name", ["../evil.py", "a/../../evil.py", "/etc/cron.d/evil", "C:/evil.py", "..\\evil.py", "a\\..\\..\\x"]
)
def test_zip_slip_and_absolute_paths(tmp_path, name):
    data = _zip_with([("predict.py", GOOD), (zipfile.ZipInfo(name), "owned")])
    _refused(tmp_path, {"p.zip": data}, "Unsafe path")
    assert not (tmp_path / "evil.py").exists()


def test_symlink_entry(tmp_path):
    link = zipfile.ZipInfo("weights.npz")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = _zip_with([("predict.py", GOOD), (link, "/etc/shadow")])
    _refused(tmp_path, {"p.zip": data}, "symlink")
    assert not (tmp_path / "pkg" / "weights.npz").exists()


def test_device_entry(tmp_path):
    fifo = zipfile.ZipInfo("pipe")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    _refused(tmp_path, {"p.zip": _zip_with([("predict.py", GOOD), (fifo, "")])}, "special file")


def test_encrypted_entry(tmp_path):
    data = _encrypted(zip_bytes({"predict.py": GOOD}), "predict.py")
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("predict.py").flag_bits & 0x1
    _refused(tmp_path, {"p.zip": data}, "encrypted")


def test_zip_bomb_by_declared_size(tmp_path):
    bomb = zip_bytes({"predict.py": GOOD, "zeros.bin": b"\0" * (17 * 1024**2)})
    assert len(bomb) < 100_000  # 17 MiB of zeros deflate to a few KiB
    _refused(tmp_path, {"p.zip": bomb}, "unpacks to too much")


def test_zip_bomb_with_lying_headers_is_stopped_while_inflating(tmp_path):
    """Headers claim 1 KiB; the data inflates to 6 MiB. Only counted bytes are trusted."""
    honest = zip_bytes({"predict.py": GOOD, "zeros.bin": b"\0" * (6 * 1024**2)})
    lying = _lying_sizes(honest, "zeros.bin", 1024)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("zeros.bin").file_size == 1024
    _refused(tmp_path, {"p.zip": lying}, "damaged|inflates")
    written = tmp_path / "pkg" / "zeros.bin"
    assert not written.exists() or written.stat().st_size <= 1024


def test_one_file_over_the_file_size_limit(tmp_path):
    big = zip_bytes({"predict.py": GOOD, "w.bin": b"\0" * (9 * 1024**2)})
    _refused(tmp_path, {"p.zip": big}, "too large")


def test_too_many_files(tmp_path):
    many = zip_bytes({"predict.py": GOOD, **{f"f{i}.txt": "" for i in range(60)}})
    _refused(tmp_path, {"p.zip": many}, "Too many entries")


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04" + b"\0" * 100])
def test_not_a_zip(tmp_path, data):
    _refused(tmp_path, {"p.zip": data}, "not a valid zip")


def test_corrupt_member(tmp_path):
    data = bytearray(zip_bytes({"predict.py": GOOD * 50}))
    data[60:80] = b"\xff" * 20  # inside the compressed data
    _refused(tmp_path, {"p.zip": bytes(data)}, "damaged")


def test_over_size_upload(tmp_path):
    _refused(tmp_path, {"p.zip": b"PK" + b"\0" * (5 * 1024**2)}, "too large")


def test_missing_predict_py(tmp_path):
    _refused(tmp_path, {"p.zip": zip_bytes({"main.py": GOOD, "other/predict.py": GOOD})}, "missing")


def test_duplicate_names(tmp_path):
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = _zip_with([("predict.py", GOOD), ("predict.py", "evil")])
    _refused(tmp_path, {"p.zip": data}, "twice")


@pytest.mark.parametrize(
    ("files", "match"),
    [({}, "No code package"), ({"plot.png": b"x"}, "No code package"),
     ({"a.zip": b"", "b.py": b""}, "exactly one")],
)
def test_choosing_the_package(tmp_path, files, match):
    _refused(tmp_path, files, match)


@pytest.mark.parametrize(
    "files",
    [{"p.zip": b"garbage"}, {"p.zip": _zip_with([(zipfile.ZipInfo("../x.py"), GOOD)])}, {}],
)
def test_grade_reports_bad_package_without_running_anything(files):
    report = grader.grade("mnist", assignment="6-2", files=files, limits=FAST)
    assert report.verdict == "bad_package" and report.score == 0.0
    assert report.messages["zh_CN"] and report.messages["en"]
