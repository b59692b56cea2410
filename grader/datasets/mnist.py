"""MNIST data sets for the `mnist` task: the shipped demo set and imported official files.

Two directory layouts are understood:

- **demo** (`data/mnist-10k/` in the repository): `images-idx3-ubyte.gz` and
  `labels-idx1-ubyte.gz` with 10,000 digits; the first 8,000 are the training split and the last
  2,000 the hidden test split.
- **official** (what `import_mnist` writes): `train-{images,labels}-*.gz` (60,000) and
  `t10k-{images,labels}-*.gz` (10,000, the hidden test split).

Loading is cached per process (keyed by the files' mtimes), since every graded submission
needs the same hidden split.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Literal

import numpy as np

from grader.datasets.idx import IdxError, read_pair, write_idx_gz
from grader.report import InfrastructureError

Split = Literal["train", "test"]

#: the demo data shipped with the repository (absent when `grader` is installed alone)
DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "mnist-10k"
DEMO_TRAIN_COUNT = 8_000

_DEMO_FILES = ("images-idx3-ubyte.gz", "labels-idx1-ubyte.gz")
_OFFICIAL = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class DatasetError(InfrastructureError):
    """A data set directory is missing, incomplete or corrupt (a staff problem, not a student's)."""


def split_files(dataset_dir: str | Path, split: Split) -> tuple[Path, Path]:
    """The (images, labels) files that hold `split`; the demo layout returns the shared pair."""
    root = Path(dataset_dir)
    official = tuple(root / name for name in _OFFICIAL[split])
    if all(p.is_file() for p in official):
        return official[0], official[1]
    demo = tuple(root / name for name in _DEMO_FILES)
    if all(p.is_file() for p in demo):
        return demo[0], demo[1]
    raise DatasetError(
        f"{root}: no MNIST files for split {split!r} (want {' + '.join(_OFFICIAL[split])}"
        f" or {' + '.join(_DEMO_FILES)})"
    )


def load_split(dataset_dir: str | Path, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """Images (N,28,28) uint8 and labels (N,) uint8 of one split, read-only and cached."""
    images, labels = split_files(dataset_dir, split)
    key = (str(images.resolve()), images.stat().st_mtime_ns, labels.stat().st_mtime_ns)
    return _load_cached(key, str(labels.resolve()), split)


@functools.lru_cache(maxsize=4)
def _load_cached(
    key: tuple[str, int, int], labels: str, split: Split
) -> tuple[np.ndarray, np.ndarray]:
    try:
        x, y = read_pair(key[0], labels)
    except IdxError as exc:
        raise DatasetError(str(exc)) from exc
    if Path(key[0]).name == _DEMO_FILES[0]:  # demo layout: one file, split by position
        cut = slice(None, DEMO_TRAIN_COUNT) if split == "train" else slice(DEMO_TRAIN_COUNT, None)
        x, y = x[cut], y[cut]
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _find(src: Path, stem: str) -> Path:
    """An official file under its usual spellings: `-idx3-ubyte`, `.idx3-ubyte`, `.gz` or raw."""
    kind = "idx3-ubyte" if "images" in stem else "idx1-ubyte"
    for sep in ("-", "."):
        for suffix in (".gz", ""):
            candidate = src / f"{stem}{sep}{kind}{suffix}"
            if candidate.is_file():
                return candidate
    raise DatasetError(f"{src}: no {stem}-{kind}[.gz] file")


def import_mnist(src_dir: str | Path, dest_dir: str | Path) -> dict[str, int]:
    """Check the four official MNIST files in `src_dir` and store them under `dest_dir`.

    Accepts raw or gzip files, dash or dot spelling. Every file is parsed and validated before
    anything is written; the result is the official layout (gzip), usable as the `dataset`
    config of the `mnist` task. Returns the number of digits per split.
    """
    src, dest = Path(src_dir), Path(dest_dir)
    loaded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = _find(src, f"{prefix}-images"), _find(src, f"{prefix}-labels")
        try:
            loaded[split] = read_pair(images, labels)
        except IdxError as exc:
            raise DatasetError(str(exc)) from exc
    dest.mkdir(parents=True, exist_ok=True)
    for split, (x, y) in loaded.items():
        image_name, label_name = _OFFICIAL[split]
        write_idx_gz(x, dest / image_name)
        write_idx_gz(y, dest / label_name)
    return {split: len(y) for split, (_, y) in loaded.items()}


def download_mnist(dest_dir: str | Path) -> dict[str, int]:
    """Fetch official MNIST through Paddle's downloader (needs the internet), then import it."""
    from paddle.vision.datasets import MNIST  # heavy, and only this path needs it

    staging = Path(dest_dir) / ".download"
    staging.mkdir(parents=True, exist_ok=True)
    try:
        for dataset, prefix in ((MNIST(mode="train", download=True), "train"),
                                (MNIST(mode="test", download=True), "t10k")):
            shutil.copyfile(str(dataset.image_path), staging / f"{prefix}-images-idx3-ubyte.gz")
            shutil.copyfile(str(dataset.label_path), staging / f"{prefix}-labels-idx1-ubyte.gz")
        return import_mnist(staging, dest_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
