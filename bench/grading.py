"""Benchmark: grading the baseline MNIST package through the sandbox vs running it bare.

    python bench/grading.py [--repeat R] [--jobs J]       # prints Markdown tables

Measured in one run on one machine (medians of R runs, taken in turns so that changing load
on a shared machine affects every measurement alike):

* grade: `grader.grade("mnist", ...)` on examples/mnist-lenet, end to end: unzip, hidden images
  written, sandbox (setpriv + bwrap + bootstrap + runner), predictions checked, accuracy.
* bare, new process: the same predict.py run without any sandbox by a fresh interpreter doing
  what the runner does (load images, import predict, call it, save predictions). This is the
  like-for-like baseline: goal grade / bare <= 1.2.
* bare, in this process: predict.py imported and called inside the benchmark process
  (interpreter and NumPy already warm): the model's own cost, for reference.
* sandbox start: an empty script in the sandbox vs `python -c "import numpy"` bare.
* throughput: J gradings spread over 1 and over 2 worker processes (grades per second).

OpenBLAS/OMP threads are 1 everywhere, as inside the sandbox (Limits.threads).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads: the bare runs use what the sandbox uses

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grader  # noqa: E402
from grader.archive import unpack_package  # noqa: E402
from grader.datasets import DEMO_DIR, load_split  # noqa: E402
from grader.limits import Limits  # noqa: E402
from grader.sandbox import run_python, workspace  # noqa: E402

PACKAGE_PY = ROOT / "examples" / "mnist-lenet" / "package.py"
BARE = """
import sys
import numpy as np
sys.path.insert(0, ".")
import predict
labels = np.asarray(predict.predict(np.load(sys.argv[1], allow_pickle=False)))
np.save(sys.argv[2], labels, allow_pickle=False)
"""


def baseline_zip() -> bytes:
    spec = importlib.util.spec_from_file_location("mnist_lenet_package", PACKAGE_PY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def interleaved_medians(actions: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each action, run in turns so that load changes hit all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            times[name].append(timed(action))
    return {name: statistics.median(values) for name, values in times.items()}


def grade_once(package: bytes) -> float:
    report = grader.grade("mnist", assignment="6-2", files={"lenet.zip": package}, limits=Limits())
    assert report.verdict == "accepted", report
    return float(report.score or 0.0)


def measure(package: bytes, repeat: int) -> dict[str, float]:
    """All single-run timings, interleaved: grade, bare runs, sandbox start."""
    images = load_split(DEMO_DIR, "test")[0]
    with tempfile.TemporaryDirectory() as tmp, workspace() as ws:
        pkg = Path(tmp) / "pkg"
        pkg.mkdir()
        unpack_package({"lenet.zip": package}, pkg, Limits())
        np.save(Path(tmp) / "images.npy", images)
        bare = [sys.executable, "-c", BARE, str(Path(tmp) / "images.npy"), str(Path(tmp) / "out.npy")]
        empty = ws / "empty.py"
        empty.write_text("pass\n")

        def in_process() -> None:
            spec = importlib.util.spec_from_file_location(f"predict_{time.time_ns()}", pkg / "predict.py")
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.predict(images)

        return interleaved_medians({
            "grade": lambda: grade_once(package),
            "fresh": lambda: subprocess.run(bare, cwd=pkg, check=True),
            "in_process": in_process,
            "boxed_start": lambda: run_python(empty, limits=Limits()),
            "bare_start": lambda: subprocess.run([sys.executable, "-c", "import numpy"], check=True),
        }, repeat)


def throughput(package: bytes, workers: int, jobs: int) -> float:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(grade_once, [package] * workers))  # warm each worker (imports, caches)
        started = time.perf_counter()
        list(pool.map(grade_once, [package] * jobs))
        return jobs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description="grading benchmark")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--jobs", type=int, default=12)
    args = parser.parse_args()

    package = baseline_zip()
    accuracy = grade_once(package)  # warm: dataset cache, sandbox runtime checks
    t = measure(package, args.repeat)
    graded, fresh, in_process = t["grade"], t["fresh"], t["in_process"]
    boxed_start, bare_start = t["boxed_start"], t["bare_start"]
    rates = {n: throughput(package, n, args.jobs) for n in (1, 2)}

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cpus = os.cpu_count()
    print(f"{when}; Python {platform.python_version()}, {platform.machine()}, {cpus} CPUs, "
          f"median of {args.repeat}; baseline accuracy {accuracy:.4f} on 2,000 hidden digits\n")
    rows = [
        ("grade (sandbox, end to end)", graded, graded / fresh),
        ("bare predict.py, new process", fresh, 1.0),
        ("bare predict.py, in this process", in_process, in_process / fresh),
        ("sandbox start (empty script)", boxed_start, None),
        ("bare `python -c 'import numpy'`", bare_start, None),
    ]
    print("| run | seconds | × bare (new process) |")
    print("|---|---:|---:|")
    for name, seconds, ratio in rows:
        print(f"| {name} | {seconds:.3f} | {'' if ratio is None else f'{ratio:.2f}'} |")
    print(f"\ngrade / bare (new process): {graded / fresh:.2f} (goal <= 1.2)")
    print(f"grade / bare (in this process): {graded / in_process:.2f}")
    print(f"sandbox overhead per run: {graded - fresh:+.3f} s end to end, "
          f"{boxed_start - bare_start:+.3f} s to start")
    print("\n| parallel graders | grades per second |")
    print("|---:|---:|")
    for workers, rate in rates.items():
        print(f"| {workers} | {rate:.2f} |")


if __name__ == "__main__":
    main()
