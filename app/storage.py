"""Content-addressed file storage under the data dir (`blobs/ab/cdef…`).

Files are named by their SHA-256, so a user-chosen name never becomes a path and identical
uploads are stored once. The directory can be a volume in production.

An upload is first written under `blobs/pending/` (`stage`) and gets its real name only once
the row that refers to it has committed (`promote`, after the commit). A request that dies
before its commit leaves a pending file that no row names: the sweep deletes it after a grace
period, and promotes the rare pending file whose row did commit (the process died between
the commit and the rename). Readers fall back to the pending name meanwhile.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.config import get_settings

HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Staged:
    digest: str
    #: the pending file, or None when the blob was already stored
    path: Path | None


def blob_dir() -> Path:
    return get_settings().data_dir / "blobs"


def pending_dir() -> Path:
    return blob_dir() / "pending"


def blob_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in HEX for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return blob_dir() / sha256[:2] / sha256[2:]


def stage(data: bytes) -> Staged:
    """Write bytes under a pending name; `promote` once the row naming them has committed."""
    digest = hashlib.sha256(data).hexdigest()
    if blob_path(digest).exists():
        return Staged(digest, None)
    pending_dir().mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=pending_dir(), prefix=f"{digest}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Staged(digest, Path(tmp))


def promote(staged: Staged) -> None:
    """Give a staged file its real name (atomic: readers never see half a file)."""
    if staged.path is None:
        return
    final = blob_path(staged.digest)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged.path, final)


def put(data: bytes) -> str:
    """Store bytes at once (no row to wait for), return their SHA-256."""
    staged = stage(data)
    promote(staged)
    return staged.digest


def get(sha256: str) -> bytes:
    with open_blob(sha256) as fh:
        return fh.read()


def open_blob(sha256: str) -> BinaryIO:
    """The stored file, open for reading (a rename from its pending name cannot pull it away)."""
    path = blob_path(sha256)
    try:
        return path.open("rb")
    except FileNotFoundError:
        for pending in sorted(pending_dir().glob(f"{sha256}.*")):  # committed, rename still to come
            try:
                return pending.open("rb")
            except FileNotFoundError:
                continue
        return path.open("rb")  # renamed meanwhile, or truly missing


def stale_pending(grace_seconds: float) -> dict[Path, str]:
    """Pending files older than the grace period, with their digests."""
    if not pending_dir().is_dir():
        return {}
    cutoff = time.time() - grace_seconds
    found = {}
    for path in pending_dir().iterdir():
        digest = path.name.split(".", 1)[0]
        try:
            if len(digest) == 64 and set(digest) <= HEX and path.stat().st_mtime < cutoff:
                found[path] = digest
        except FileNotFoundError:
            continue
    return found


def settle(stale: dict[Path, str], referenced: set[str]) -> int:
    """Promote the stale files a committed row names; delete the others (orphans). Returns deleted."""
    deleted = 0
    for path, digest in stale.items():
        try:
            if digest in referenced:
                promote(Staged(digest, path))
            else:
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue
    return deleted
