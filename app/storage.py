"""Content-addressed file storage under the data dir (`blobs/ab/cdef…`).

Files are named by their SHA-256, so a user-chosen name never becomes a path and identical
uploads are stored once. The directory can be a volume in production.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from app.config import get_settings


def blob_dir() -> Path:
    return get_settings().data_dir / "blobs"


def blob_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return blob_dir() / sha256[:2] / sha256[2:]


def put(data: bytes) -> str:
    """Store bytes, return their SHA-256. Written to a temp file first so readers never see halves."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(digest)
    if path.exists():
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def get(sha256: str) -> bytes:
    return blob_path(sha256).read_bytes()
