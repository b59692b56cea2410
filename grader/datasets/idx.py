"""Reader and writer for the IDX format of the MNIST files (raw or gzip-compressed).

An IDX file is a big-endian header `00 00 <type> <ndim>` followed by `ndim` uint32 sizes and the
data. MNIST uses type 0x08 (unsigned byte): images have magic 2051 (3 dims: count, rows, cols),
labels 2049 (1 dim: count). The reader checks the magic, the dimensions and that the data is
exactly as long as the header says, and never inflates more than `max_items` bytes of data, so
a hostile or truncated file fails with `IdxError` instead of eating memory.
"""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_NDIM = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}
_GZIP_MAGIC = b"\x1f\x8b"
#: the official training images are 47 MB; anything far beyond that is not MNIST
DEFAULT_MAX_ITEMS = 256 * 1024**2


class IdxError(ValueError):
    """The file is not a well-formed IDX file of the expected kind."""


def _open(path: Path) -> BinaryIO:
    raw = path.open("rb")
    if raw.read(2) == _GZIP_MAGIC:  # sniff, do not trust the extension
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw


def _read_exact(stream: BinaryIO, size: int, what: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise IdxError(f"{what}: expected {size} bytes, file ends after {len(data)}")
    return data


def read_idx(
    path: str | Path, *, magic: int | None = None, max_items: int = DEFAULT_MAX_ITEMS
) -> np.ndarray:
    """Load one IDX file as a uint8 array; `magic` (2051 or 2049) pins the expected kind."""
    path = Path(path)
    try:
        with _open(path) as stream:
            return _parse(stream, str(path), magic, max_items)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise IdxError(f"{path}: cannot read: {exc}") from exc


def _parse(stream: BinaryIO, name: str, magic: int | None, max_items: int) -> np.ndarray:
    (found,) = struct.unpack(">I", _read_exact(stream, 4, name))
    if found not in _NDIM or (magic is not None and found != magic):
        want = magic if magic is not None else sorted(_NDIM)
        raise IdxError(f"{name}: magic number {found}, expected {want}")
    ndim = _NDIM[found]
    dims = struct.unpack(f">{ndim}I", _read_exact(stream, 4 * ndim, name))
    if found == IMAGES_MAGIC and dims[1:] != (28, 28):
        raise IdxError(f"{name}: images are {dims[1]}x{dims[2]}, expected 28x28")
    count = int(np.prod(dims, dtype=np.int64))
    if count > max_items:
        raise IdxError(f"{name}: header claims {count} bytes of data, over the cap {max_items}")
    data = _read_exact(stream, count, name)
    if stream.read(1):
        raise IdxError(f"{name}: trailing bytes after {count} bytes of data")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def read_pair(images: str | Path, labels: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N,28,28) and labels (N,), checked to match in count and to be digits 0-9."""
    x = read_idx(images, magic=IMAGES_MAGIC)
    y = read_idx(labels, magic=LABELS_MAGIC)
    if len(x) != len(y):
        raise IdxError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels")
    if y.size and int(y.max()) > 9:
        raise IdxError(f"{labels}: label {int(y.max())} is not a digit")
    return x, y


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes (uncompressed) of a uint8 image (N,28,28) or label (N,) array."""
    if array.dtype != np.uint8 or array.ndim not in (1, 3):
        raise ValueError("encode_idx wants uint8 labels (N,) or images (N,28,28)")
    magic = LABELS_MAGIC if array.ndim == 1 else IMAGES_MAGIC
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx_gz(array: np.ndarray, path: str | Path) -> None:
    """Write `array` as a gzip IDX file; mtime 0 keeps the bytes reproducible."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(encode_idx(array))
    Path(path).write_bytes(buffer.getvalue())
