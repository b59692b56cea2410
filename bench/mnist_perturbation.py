"""Benchmark: the hidden-digit perturbation against look-up attacks, and what it costs the baseline.

    python bench/mnist_perturbation.py [--seeds N]

On the 2,000 hidden demo digits, for N course seeds: the baseline package's accuracy (LeNet,
examples/mnist-lenet) on the plain and on the perturbed digits; an exact look-up (hash of the
image bytes against every public digit) on both; and, the residual risk, a nearest-neighbour
look-up against every public digit (the hidden originals included) on both, beside a
nearest-neighbour classifier that only knows the 8,000 training digits (the baseline of what
plain learning from public data gives). Also the time to perturb 2,000 digits.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import runpy
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.datasets.mnist import DEMO_DIR, read_pair  # noqa: E402
from grader.tasks.mnist.perturb import perturb  # noqa: E402


def exact(images: np.ndarray, table: dict[bytes, int]) -> np.ndarray:
    return np.array([table.get(hashlib.sha256(im.tobytes()).digest(), 0) for im in images])


def nearest(images: np.ndarray, public: np.ndarray, labels: np.ndarray) -> np.ndarray:
    pub = public.reshape(len(public), -1).astype(np.float32)
    norms = (pub ** 2).sum(1)
    out = []
    for start in range(0, len(images), 250):
        q = images[start:start + 250].reshape(-1, pub.shape[1]).astype(np.float32)
        d = norms[None, :] - 2 * q @ pub.T
        out.append(labels[d.argmin(1)])
    return np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    images, labels = read_pair(DEMO_DIR / "images-idx3-ubyte.gz", DEMO_DIR / "labels-idx1-ubyte.gz")
    hidden, truth = images[-2000:], labels[-2000:]
    predict = runpy.run_path(str(ROOT / "examples" / "mnist-lenet" / "predict.py"))["predict"]
    table = {hashlib.sha256(im.tobytes()).digest(): int(y) for im, y in zip(images, labels, strict=True)}

    def acc(pred: np.ndarray) -> float:
        return 100 * float((pred == truth).mean())

    print(f"load: {os.getloadavg()[0]:.2f} (1 min), cpus: {os.cpu_count()}")
    def line(name: str, digits: np.ndarray) -> str:
        return (f"{name:10} baseline {acc(predict(digits)):6.2f} %  "
                f"exact look-up {acc(exact(digits, table)):6.2f} %  "
                f"nearest (all public) {acc(nearest(digits, images, labels)):6.2f} %  "
                f"nearest (training only) {acc(nearest(digits, images[:-2000], labels[:-2000])):6.2f} %")

    print(line("plain", hidden))
    for seed in range(args.seeds):
        start = time.perf_counter()
        moved = perturb(hidden, f"course-{seed}")
        took = time.perf_counter() - start
        print(line(f"course-{seed}", moved) + f"  perturb {took:.2f} s")


if __name__ == "__main__":
    main()
