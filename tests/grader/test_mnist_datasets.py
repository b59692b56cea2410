"""IDX reading, the shipped demo split, and importing official MNIST (never from the internet)."""

from __future__ import annotations

import gzip
import hashlib
import struct
import sys
import types

import numpy as np
import pytest

from grader.datasets import DEMO_DIR, DatasetError, IdxError, import_mnist, load_split, read_idx
from grader.datasets.idx import encode_idx, write_idx_gz
from grader.datasets.mnist import download_mnist


def test_demo_files_are_the_documented_ones():
    for name, digest in [
        ("images-idx3-ubyte.gz", "f0c9f8197784c93c74a89d13c6aad5c7c033cc7d0a7f926c15ba81f3c2d1909e"),
        ("labels-idx1-ubyte.gz", "ea7fb42abffe07f019cfc71e74433504f4f34c62930e4a5f6c163865a45f5036"),
    ]:
        assert hashlib.sha256((DEMO_DIR / name).read_bytes()).hexdigest() == digest
    assert "MIT License" in (DEMO_DIR / "LICENSE").read_text()


def test_demo_split():
    x_train, y_train = load_split(DEMO_DIR, "train")
    x_test, y_test = load_split(DEMO_DIR, "test")
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    counts = np.bincount(np.concatenate([y_train, y_test]), minlength=10)
    assert counts.tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    assert not x_test.flags.writeable  # cached arrays cannot be changed by a caller


def _digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def test_round_trip_raw_and_gzip(tmp_path):
    x, y = _digits(5)
    (tmp_path / "x.raw").write_bytes(encode_idx(x))
    write_idx_gz(y, tmp_path / "y.gz")
    assert np.array_equal(read_idx(tmp_path / "x.raw", magic=2051), x)
    assert np.array_equal(read_idx(tmp_path / "y.gz", magic=2049), y)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b[:-1], "ends after"),
        (lambda b: b + b"\0", "trailing"),
        (lambda b: struct.pack(">I", 2052) + b[4:], "magic"),
        (lambda b: b[:8] + struct.pack(">II", 27, 29) + b[16:], "28x28"),
        (lambda b: b[:4] + struct.pack(">I", 10**9) + b[8:], "cap"),
        (lambda b: b[:3], "ends after"),
    ],
)
def test_malformed_idx_is_refused(tmp_path, mangle, message):
    x, _ = _digits(3)
    path = tmp_path / "bad"
    path.write_bytes(gzip.compress(mangle(encode_idx(x))))
    with pytest.raises(IdxError, match=message):
        read_idx(path)


def test_labels_where_images_are_expected(tmp_path):
    _, y = _digits(3)
    write_idx_gz(y, tmp_path / "y.gz")
    with pytest.raises(IdxError, match="magic"):
        read_idx(tmp_path / "y.gz", magic=2051)


def test_corrupt_gzip(tmp_path):
    (tmp_path / "bad.gz").write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(IdxError, match="cannot read"):
        read_idx(tmp_path / "bad.gz")


def _official(src, n_train=30, n_test=20, gz=True, sep="-"):
    src.mkdir()
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x, y = _digits(n, seed=n)
        for kind, array, tag in (("images", x, "idx3"), ("labels", y, "idx1")):
            name = f"{prefix}-{kind}{sep}{tag}-ubyte"
            if gz:
                write_idx_gz(array, src / f"{name}.gz")
            else:
                (src / name).write_bytes(encode_idx(array))
    return src


@pytest.mark.parametrize(("gz", "sep"), [(True, "-"), (False, "-"), (False, ".")])
def test_import_mnist(tmp_path, gz, sep):
    src = _official(tmp_path / "src", gz=gz, sep=sep)
    assert import_mnist(src, tmp_path / "dest") == {"train": 30, "test": 20}
    x, y = load_split(tmp_path / "dest", "test")
    assert x.shape == (20, 28, 28) and np.array_equal(y, _digits(20, seed=20)[1])
    assert load_split(tmp_path / "dest", "train")[0].shape == (30, 28, 28)


def test_import_mnist_refuses_mismatched_or_missing_files(tmp_path):
    src = _official(tmp_path / "src")
    write_idx_gz(_digits(7)[1], src / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetError, match="20 images but"):
        import_mnist(src, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()  # nothing written before everything is checked
    (src / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="train-images"):
        import_mnist(src, tmp_path / "dest")


def test_missing_dataset_dir(tmp_path):
    with pytest.raises(DatasetError, match="no MNIST files"):
        load_split(tmp_path, "test")


def test_download_goes_through_paddles_downloader(tmp_path, monkeypatch):
    """The online path, with Paddle's MNIST class replaced at the network edge."""
    src = _official(tmp_path / "cache")
    calls = []

    class FakeMNIST:
        def __init__(self, mode: str, download: bool) -> None:
            calls.append((mode, download))
            prefix = "train" if mode == "train" else "t10k"
            self.image_path = str(src / f"{prefix}-images-idx3-ubyte.gz")
            self.label_path = str(src / f"{prefix}-labels-idx1-ubyte.gz")

    fake = types.ModuleType("paddle.vision.datasets")
    fake.MNIST = FakeMNIST
    monkeypatch.setitem(sys.modules, "paddle.vision.datasets", fake)
    assert download_mnist(tmp_path / "dest") == {"train": 30, "test": 20}
    assert calls == [("train", True), ("test", True)]
    assert not (tmp_path / "dest" / ".download").exists()
