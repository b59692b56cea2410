"""Build the Paddle package for homework 6-2: predict.py and lenet.pdparams in a zip.

    python examples/mnist-lenet-paddle/package.py [OUT.zip]     # default: mnist-lenet-paddle.zip here

lenet.pdparams is written with `paddle.save` from the committed baseline weights
(examples/mnist-lenet/lenet.npz, Paddle's own layouts), so the package scores what the baseline
scores and nothing is trained. Imports paddle: run it in a process of its own.
"""

from __future__ import annotations

import io
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import paddle

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE.parent / "mnist-lenet" / "lenet.npz"


def state_dict() -> dict[str, paddle.Tensor]:
    """`conv1_weight` in the npz is `conv1.weight` in the Layer's state dict."""
    with np.load(WEIGHTS, allow_pickle=False) as arrays:
        return {name.replace("_", "."): paddle.to_tensor(arrays[name]) for name in arrays.files}


def build(out: Path | None = None) -> bytes:
    """The package as bytes; also written to `out` when given."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        params = Path(tmp) / "lenet.pdparams"
        paddle.save(state_dict(), str(params))
        zf.write(HERE / "predict.py", "predict.py")
        zf.write(params, "lenet.pdparams")
    data = buffer.getvalue()
    if out is not None:
        out.write_bytes(data)
    return data


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "mnist-lenet-paddle.zip"
    build(target)
    print(f"wrote {target}")
