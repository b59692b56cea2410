"""Seeds, commitments, the draw key and entry tickets (the RFC 3797-style part).

- seed: 32 random bytes, written as 64 lowercase hex characters.
- commitment = hex(SHA-256(seed bytes)), published before the list is frozen.
- key = SHA-256(frame(b"camp-draw-v1") || frame(ascii(draw id in decimal))
                || frame(list hash bytes) || frame(utf8(public value) or b"")
                || frame(seed bytes)), where frame(x) = 4-byte big-endian length of x || x.
- ticket(entry) = SHA-256(key || 8-byte big-endian entry id); smaller tickets win.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from app.draws.errors import DrawError

DOMAIN_TAG = b"camp-draw-v1"
SEED_BYTES = 32
_HEX64 = re.compile(r"[0-9a-f]{64}")


def new_seed() -> str:
    """A fresh secret seed (64 hex characters) from the operating system's CSPRNG."""
    return secrets.token_hex(SEED_BYTES)


def is_hex64(value: object) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def normalize_seed(seed: str) -> str:
    """Accept a pasted seed with surrounding spaces or in upper case; raise if not 32 bytes."""
    text = seed.strip().lower() if isinstance(seed, str) else ""
    if not is_hex64(text):
        raise DrawError("seed.malformed")
    return text


def commitment_of(seed: str) -> str:
    """hex(SHA-256(seed bytes)) — what `commit` publishes."""
    return hashlib.sha256(bytes.fromhex(normalize_seed(seed))).hexdigest()


def seed_matches(seed: str, commitment: str) -> bool:
    try:
        actual = commitment_of(seed)
    except DrawError:
        return False
    return hmac.compare_digest(actual, commitment)


def check_seed(seed: str, commitment: str) -> str:
    """Return the normalized seed, or refuse with `seed.mismatch` / `seed.malformed`."""
    normalized = normalize_seed(seed)
    if not seed_matches(normalized, commitment):
        raise DrawError("seed.mismatch")
    return normalized


def frame(data: bytes) -> bytes:
    """4-byte big-endian length, then the bytes: concatenations of frames are unambiguous."""
    return len(data).to_bytes(4, "big") + data


def key_material(draw_id: int, list_hash: str, public_value: str | None, seed: str) -> bytes:
    """The exact bytes hashed into the key (exposed for documentation and tests)."""
    return b"".join(
        (
            frame(DOMAIN_TAG),
            frame(str(draw_id).encode("ascii")),
            frame(bytes.fromhex(list_hash)),
            frame((public_value or "").encode("utf-8")),
            frame(bytes.fromhex(normalize_seed(seed))),
        )
    )


def derive_key(draw_id: int, list_hash: str, public_value: str | None, seed: str) -> bytes:
    """The 32-byte draw key; everything that goes in was public or committed before reveal."""
    if type(draw_id) is not int or draw_id < 1:
        raise DrawError("record.invalid", detail="draw id must be a positive integer")
    if not is_hex64(list_hash):
        raise DrawError("record.invalid", detail="list hash must be 64 lowercase hex characters")
    return hashlib.sha256(key_material(draw_id, list_hash, public_value, seed)).digest()


def ticket(key: bytes, entry_id: int) -> bytes:
    """SHA-256(key || entry id as 8 bytes big-endian)."""
    return hashlib.sha256(key + entry_id.to_bytes(8, "big")).digest()


def tickets(key: bytes, entry_ids: Iterable[int]) -> list[bytes]:
    """`ticket` for many entries; the hot loop of a lottery, kept tight on purpose."""
    sha256 = hashlib.sha256
    return [sha256(key + entry_id.to_bytes(8, "big")).digest() for entry_id in entry_ids]


# --- record version 3 ------------------------------------------------------------------------

COMMIT_TAG_V3 = b"camp-draw-v3-commitment"
KEY_TAG_V3 = b"camp-draw-v3"


def commitment_v3(seed: str, metadata_hash: str) -> str:
    """hex SHA-256(frame(tag) || frame(seed bytes) || frame(metadata hash bytes)): the seed and
    everything published at commit, bound together."""
    material = frame(COMMIT_TAG_V3) + frame(bytes.fromhex(normalize_seed(seed)))
    return hashlib.sha256(material + frame(bytes.fromhex(metadata_hash))).hexdigest()


def check_seed_v3(seed: str, metadata_hash: str, commitment: str) -> str:
    normalized = normalize_seed(seed)
    if not hmac.compare_digest(commitment_v3(normalized, metadata_hash), commitment):
        raise DrawError("seed.mismatch")
    return normalized


def key_material_v3(
    metadata_hash: str, list_hash: str, excluded_hash: str, randomness: bytes, seed: str
) -> bytes:
    return b"".join(
        (
            frame(KEY_TAG_V3),
            frame(bytes.fromhex(metadata_hash)),
            frame(bytes.fromhex(list_hash)),
            frame(bytes.fromhex(excluded_hash)),
            frame(randomness),
            frame(bytes.fromhex(normalize_seed(seed))),
        )
    )


def derive_key_v3(
    metadata_hash: str, list_hash: str, excluded_hash: str, randomness: bytes, seed: str
) -> bytes:
    return hashlib.sha256(
        key_material_v3(metadata_hash, list_hash, excluded_hash, randomness, seed)
    ).digest()
