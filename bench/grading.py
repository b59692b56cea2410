"""Benchmark: grading a NumPy and a Paddle MNIST package, cold and warm, against running them bare.

    python bench/grading.py [--repeat R] [--throughput J]     # prints Markdown tables

Two packages, both LeNet-5 with the committed baseline weights (no training at bench time):
`examples/mnist-lenet` (NumPy forward pass) and `examples/mnist-lenet-paddle` (a dygraph
`paddle.nn.Layer` loading `lenet.pdparams`, written by its package.py from the same weights).
For each, measured in one run on one machine (medians of R, taken in turns so that changing
load on a shared machine affects every row alike):

* bare: the same predict.py run by a fresh interpreter doing what the runner does (load the
  2,000 hidden images, import predict, call it, save the predictions): the baseline, 1.00;
* cold sandbox / warm sandbox: that one run (runner.py on the hidden images) through
  `run_python`, in a sandbox started for it, or in one of the warm pool's;
* grade cold / grade warm: `grader.grade("mnist", ...)` end to end (unzip, the sample run, the
  hidden run, predictions checked, accuracy), with every run cold, or with the warm pool.

The warm pool is what a worker gets by default (`WarmSettings()`: 2 sandboxes importing numpy
and paddle). Before every timed warm row the pool is full again (its refill is not timed: that
is the point of warming ahead of need), and before every cold row too (so no warm-up competes
with it). Cold rows use limits that differ from the pool's only by 0.5 s of wall time, which is
what sends a run cold. Goals (the warm-pool issue): Paddle grade warm ≤ 0.3× bare, NumPy ≤ 0.5×.

`--throughput J` adds J back-to-back gradings per package with the pool, and without: the pool
moves the imports ahead of time; it does not remove their CPU.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads: the bare runs use what the sandbox uses

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grader  # noqa: E402
from grader.archive import unpack_package  # noqa: E402
from grader.datasets import DEMO_DIR, load_split  # noqa: E402
from grader.limits import Limits  # noqa: E402
from grader.sandbox import configured, run_python, warm, workspace  # noqa: E402
from grader.sandbox.process import Outcome  # noqa: E402
from grader.tasks.mnist import task as mnist_task  # noqa: E402
from grader.tasks.mnist.task import RUNNER  # noqa: E402

NUMPY_PACKAGE = ROOT / "examples" / "mnist-lenet" / "package.py"
PADDLE_PACKAGE = ROOT / "examples" / "mnist-lenet-paddle" / "package.py"
BARE = """
import sys
import numpy as np
sys.path.insert(0, ".")
import predict
labels = np.asarray(predict.predict(np.load(sys.argv[1], allow_pickle=False)))
np.save(sys.argv[2], labels, allow_pickle=False)
"""
#: CPU seconds of the sandboxed runs since the last reset: each run's cgroup, from its hand-off
_sandbox_cpu: list[float] = []


def _counting_run_python(*args: object, **kwargs: object) -> Outcome:
    outcome = run_python(*args, **kwargs)  # type: ignore[arg-type]
    _sandbox_cpu.append(outcome.cpu_seconds or 0.0)
    return outcome


mnist_task.run_python = _counting_run_python  # type: ignore[assignment]  # the grade rows' runs

WARM_LIMITS = Limits()
COLD_LIMITS = replace(WARM_LIMITS, wall_seconds=WARM_LIMITS.wall_seconds + 0.5)


def numpy_zip() -> bytes:
    spec = importlib.util.spec_from_file_location("mnist_lenet_package", NUMPY_PACKAGE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return bytes(module.build())


def paddle_zip() -> bytes:
    """Built in a process of its own: this one never imports Paddle (as a worker never does)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "paddle.zip"
        subprocess.run([sys.executable, str(PADDLE_PACKAGE), str(out)], check=True, capture_output=True)
        return out.read_bytes()


def grade(package: bytes, limits: Limits) -> float:
    report = grader.grade("mnist", assignment="6-2", files={"pkg.zip": package}, limits=limits)
    assert report.verdict == "accepted", report
    return float(report.score or 0.0)


def cpu_now() -> tuple[float, float]:
    """CPU seconds of this process, and of its reaped children (the bare runs; also sandboxes,
    warm-ups included, which is why sandboxed rows count their cgroups' CPU instead)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def measure(
    packages: dict[str, bytes], pool: warm.WarmPool, repeat: int
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Median wall and CPU seconds per package and row; every row of every package in turns.
    CPU: this process (its pool thread included), plus the bare run (a child process), or each
    sandboxed run's cgroup from its hand-off (setpriv, bwrap, bootstrap and program)."""
    images = load_split(DEMO_DIR, "test")[0]
    times: dict[str, dict[str, list[float]]] = {k: {} for k in packages}
    cpus: dict[str, dict[str, list[float]]] = {k: {} for k in packages}
    with tempfile.TemporaryDirectory() as tmp, workspace() as ws:
        np.save(Path(tmp) / "images.npy", images)
        np.save(ws / "images.npy", images)
        actions: list[tuple[str, str, Callable[[], object]]] = []
        for kind, package in packages.items():
            pkg = ws / kind  # under the workspace: the sandbox user may reach it
            pkg.mkdir()
            unpack_package({"pkg.zip": package}, pkg, WARM_LIMITS)
            bare = [sys.executable, "-c", BARE, str(Path(tmp) / "images.npy"), str(Path(tmp) / f"{kind}.npy")]

            def sandboxed(limits: Limits, pkg: Path = pkg) -> None:
                outcome = _counting_run_python(RUNNER, ["/camp/in/images.npy", "/camp/out/predictions.npy"],
                                     limits=limits, package=pkg, inputs={"images.npy": ws / "images.npy"},
                                     outputs={"predictions.npy": ws / "predictions.npy"})
                assert outcome.ok and outcome.warm == (limits is WARM_LIMITS), outcome

            actions += [
                (kind, "bare", lambda bare=bare, pkg=pkg: subprocess.run(bare, cwd=pkg, check=True,
                                                                          capture_output=True)),
                (kind, "cold sandbox", lambda s=sandboxed: s(COLD_LIMITS)),
                (kind, "warm sandbox", lambda s=sandboxed: s(WARM_LIMITS)),
                (kind, "grade cold", lambda p=package: grade(p, COLD_LIMITS)),
                (kind, "grade warm", lambda p=package: grade(p, WARM_LIMITS)),
            ]
        for _ in range(repeat):
            for kind, row, action in actions:
                assert pool.wait_ready(timeout=600), "the warm pool did not fill"
                _sandbox_cpu.clear()
                started, (own, children) = time.perf_counter(), cpu_now()
                action()
                times[kind].setdefault(row, []).append(time.perf_counter() - started)
                own_after, children_after = cpu_now()
                others = children_after - children if row == "bare" else sum(_sandbox_cpu)
                used = own_after - own + others
                cpus[kind].setdefault(row, []).append(used)

    def medians(values: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
        return {kind: {row: statistics.median(v) for row, v in rows.items()} for kind, rows in values.items()}

    return medians(times), medians(cpus)


def throughput(package: bytes, limits: Limits, jobs: int) -> float:
    started = time.perf_counter()
    for _ in range(jobs):
        grade(package, limits)
    return jobs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description="grading benchmark")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--throughput", type=int, default=0, metavar="J")
    args = parser.parse_args()

    load_before = os.getloadavg()
    packages = {"NumPy": numpy_zip(), "Paddle": paddle_zip()}
    settings = warm.WarmSettings()
    pool = warm.start(settings, WARM_LIMITS, configured())
    if pool is None:
        sys.exit("the warm pool needs root (a uid per sandbox slot)")
    accuracy = {kind: grade(package, COLD_LIMITS) for kind, package in packages.items()}  # warm caches
    t, c = measure(packages, pool, args.repeat)
    rates = {}
    if args.throughput:
        for kind, package in packages.items():
            pool.wait_ready(timeout=600)
            rates[kind] = (throughput(package, COLD_LIMITS, args.throughput),
                           throughput(package, WARM_LIMITS, args.throughput))
    load_after = os.getloadavg()
    warm.stop()

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{when}; Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"median of {args.repeat}; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
          f"warm pool: {settings.size} sandboxes importing {', '.join(settings.imports)}\n")
    print("accuracy on the 2,000 hidden digits: "
          + ", ".join(f"{kind} {value:.4f}" for kind, value in accuracy.items()) + "\n")
    kinds = list(t)
    print("| run | " + " | ".join(f"{k} s | {k} × bare | {k} CPU s | CPU × bare" for k in kinds) + " |")
    print("|---|" + "---:|---:|---:|---:|" * len(kinds))
    for row in ("bare", "cold sandbox", "warm sandbox", "grade cold", "grade warm"):
        cells = [f"{t[k][row]:.3f} | {t[k][row] / t[k]['bare']:.2f} | {c[k][row]:.3f} | "
                 f"{c[k][row] / c[k]['bare']:.2f}" for k in kinds]
        print(f"| {row} | " + " | ".join(cells) + " |")
    goals = {"NumPy": 0.5, "Paddle": 0.3}
    print()
    for kind in kinds:
        ratio = t[kind]["grade warm"] / t[kind]["bare"]
        verdict = "met" if ratio <= goals[kind] else "NOT met"
        print(f"{kind}: grade warm / bare = {ratio:.2f} (goal <= {goals[kind]}: {verdict}); "
              f"grade cold / bare = {t[kind]['grade cold'] / t[kind]['bare']:.2f}; "
              f"warm speed-up end to end {t[kind]['grade cold'] / t[kind]['grade warm']:.1f}x")
    if rates:
        print(f"\n| {args.throughput} gradings back to back | cold: grades/s | warm pool: grades/s |")
        print("|---|---:|---:|")
        for kind, (cold, hot) in rates.items():
            print(f"| {kind} | {cold:.2f} | {hot:.2f} |")
    print(f"\nwarm pool: {pool.stats}")


if __name__ == "__main__":
    main()
