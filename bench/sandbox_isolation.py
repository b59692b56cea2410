"""What a run's isolation costs: a sandboxed `print(1)` with a slot uid, a cgroup and the seccomp
filter, against the same run with cgroups off (rlimits only), measured in the same process.

    sudo .venv/bin/python bench/sandbox_isolation.py [--runs 10]

Uses its own uid range and cgroup name, and removes its cgroup directories at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.limits import Limits
from grader.sandbox import SandboxConfig, run_python, workspace
from grader.sandbox.cgroups import detect

NAME = f"camp-bench-{os.getpid()}"
LIMITS = Limits(wall_seconds=30, cpu_seconds=10, memory_bytes=768 * 1024**2)


def timed(config: SandboxConfig, runs: int, script: Path) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        outcome = run_python(script, limits=LIMITS, sandbox=config)
        times.append(time.monotonic() - started)
        assert outcome.ok, outcome
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    base = SandboxConfig(uid_first=300_000 + (os.getpid() % 1000) * 4, uid_count=4, cgroup_name=NAME)
    modes = {"rlimits only (baseline)": SandboxConfig(**{**base.__dict__, "cgroups": "none"}),
             f"slot uid + cgroup {detect('auto', NAME).version} + seccomp": base}
    results: dict[str, list[float]] = {name: [] for name in modes}
    with workspace() as ws:
        script = ws / "main.py"
        script.write_text("print(1)\n")
        for _ in range(2):  # interleaved, so a change of machine load hits both alike
            for name, config in modes.items():
                results[name] += timed(config, runs, script)
    baseline = statistics.median(results["rlimits only (baseline)"])
    print(f"load: {os.getloadavg()[0]:.1f}; {2 * runs} runs each")
    print(f"{'isolation':45} {'median s':>9} {'min s':>7} {'× baseline':>10}")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name:45} {median:9.3f} {min(times):7.3f} {median / baseline:10.2f}")
    for base_dir in Path("/sys/fs/cgroup").glob(f"**/{NAME}"):
        base_dir.rmdir()


if __name__ == "__main__":
    main()
