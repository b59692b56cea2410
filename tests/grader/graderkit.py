"""Shared helpers for the grader tests (fixtures live in conftest.py)."""

from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path

from grader.limits import Limits
from grader.sandbox import process as sandbox_process
from grader.sandbox import run_python, workspace

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "examples" / "mnist-lenet"
BASELINE_ACCURACY = 0.982  # measured on the 2,000 hidden demo digits (examples/mnist-lenet/README.md)

#: small limits keep hostile tests quick; 768 MiB is plenty for NumPy (Paddle needs ~1 GiB)
FAST = Limits(
    wall_seconds=6,
    cpu_seconds=3,
    memory_bytes=768 * 1024**2,
    processes=32,
    file_bytes=8 * 1024**2,
    output_bytes=8 * 1024,
    flood_bytes=1024**2,
    scratch_bytes=16 * 1024**2,
    package_bytes=4 * 1024**2,
    unpacked_bytes=16 * 1024**2,
    package_files=50,
)


def zip_bytes(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def run_code(code: str, limits: Limits = FAST, package: dict[str, str] | None = None,
             args: tuple[str, ...] = ()) -> sandbox_process.Outcome:
    """Run `code` (dedented) as main.py in a sandbox, with `package`'s files beside it."""
    with workspace() as ws:
        script = ws / "main.py"
        script.write_text(textwrap.dedent(code))
        pkg = None
        if package is not None:
            pkg = ws / "pkg"
            pkg.mkdir()
            for name, text in package.items():
                (pkg / name).write_text(text)
        return run_python(script, args, limits=limits, package=pkg)
