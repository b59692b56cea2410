"""Explicit, typed resource limits for running student code (never read from the environment)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 120.0
    cpu_seconds: int = 120
    memory_bytes: int = 4 * 1024**3
    processes: int = 64
    file_bytes: int = 64 * 1024**2
    open_files: int = 256
    output_bytes: int = 64 * 1024
    #: GPU index handed to the sandbox, or None for CPU only
    gpu: str | None = None
