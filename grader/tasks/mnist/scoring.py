"""Check predictions and score them against the hidden labels, outside the sandbox.

The predictions file is untrusted: it is size-capped, its `.npy` header is read first and must
describe a plain array whose shape × item size is exactly the data that follows (a 128-byte file
claiming 2⁴⁰ elements is refused before anything is allocated), it is loaded with
`allow_pickle=False`, and must be exactly N labels, integers 0-9 (floats only when they hold
whole numbers). Accuracy is computed here, with labels the sandbox never saw.

Public/private split: a fixed, documented rule picks the public part, so it is stable across
runs, machines and NumPy versions: digit i is public when sha256(f"{seed}:{i}") is among the
round(fraction·N) smallest hashes.
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path
from typing import BinaryIO

import numpy as np


class OutputError(Exception):
    """The program's output is not N labels; `zh` and `en` say what is wrong."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def read_predictions(path: Path, n: int) -> np.ndarray:
    """The N predicted labels as int64, or `OutputError`."""
    size = path.stat().st_size
    if size == 0:
        raise OutputError("程序没有输出预测结果（详见日志）。", "No predictions were written (see the log).")
    if size > 1024 + 16 * 10 * n:  # room for (N, 10) float64 logits, to name that mistake
        raise OutputError("输出的预测结果太大。", f"The predictions are far too large ({size} bytes).")
    try:
        with path.open("rb") as stream:
            _check_header(stream, size)
            array = np.load(stream, allow_pickle=False)
    # any failure to parse the program's file is its output's fault: NumPy's reader raised
    # OverflowError (a dimension of 2**70) and TypeError (a dimension `True`) too; an exception
    # escaping here is no verdict at all (the grading was queued again until its tries ran out)
    except Exception as exc:
        raise OutputError("预测结果无法读取。", f"The predictions cannot be read ({_short(exc)}).") from exc
    if not isinstance(array, np.ndarray):
        raise OutputError("预测结果不是一个数组。", "The predictions are not a single array.")
    return _labels(array, n)


def _check_header(stream: BinaryIO, size: int) -> None:
    """Refuse a header whose shape and dtype do not match the bytes that follow it."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.hasobject or dtype.itemsize == 0:
        raise ValueError(f"not a plain numeric array ({dtype})")
    if not all(type(d) is int and 0 <= d < 2**63 for d in shape):
        raise ValueError(f"the header's shape is not a list of sizes: {str(shape)[:100]}")
    claimed = math.prod(shape) * dtype.itemsize
    if claimed != size - stream.tell():
        raise ValueError(f"the header claims {claimed} bytes of data, the file holds {size - stream.tell()}")
    stream.seek(0)


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _labels(array: np.ndarray, n: int) -> np.ndarray:
    if array.shape != (n,):
        logits = array.shape == (n, 10)
        hint_zh, hint_en = ("（是不是忘了 argmax？）", " (forgot argmax?)") if logits else ("", "")
        raise OutputError(
            f"predict() 应返回 {n} 个标签，实际形状是 {array.shape}{hint_zh}。",
            f"predict() must return {n} labels; got shape {array.shape}{hint_en}.",
        )
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise OutputError("标签必须是整数，不能是小数。", "Labels must be integers, not fractions.")
    elif array.dtype.kind not in "iu":
        raise OutputError(
            f"标签必须是整数（实际类型 {array.dtype}）。", f"Labels must be integers (got {array.dtype})."
        )
    if n and (array.min() < 0 or array.max() > 9):
        raise OutputError("标签必须在 0 到 9 之间。", "Labels must be digits 0-9.")
    return array.astype(np.int64)


@functools.lru_cache(maxsize=16)
def public_mask(n: int, fraction: float, seed: str) -> np.ndarray:
    """Which of N test digits are public: a fixed hash rule (see module docstring)."""
    keys = [hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(n)]
    chosen = sorted(range(n), key=keys.__getitem__)[: round(fraction * n)]
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    mask.setflags(write=False)
    return mask


def accuracies(
    predictions: np.ndarray, labels: np.ndarray, mask: np.ndarray | None
) -> dict[str, float | int]:
    """Accuracy overall and, given a public mask, on the public and private parts."""
    hits = predictions == labels
    result: dict[str, float | int] = {
        "accuracy": float(hits.mean()) if len(hits) else 0.0,
        "correct": int(hits.sum()),
        "total": len(hits),
    }
    if mask is not None:
        for name, part in (("public", hits[mask]), ("private", hits[~mask])):
            result[f"{name}_accuracy"] = float(part.mean()) if len(part) else 0.0
            result[f"{name}_count"] = len(part)
    return result
