"""Shared helpers for the grader tests (fixtures live in conftest.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from grader.limits import Limits

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
