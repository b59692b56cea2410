"""The public randomness of record version 3: a round of the drand quicknet beacon.

Nobody at Camp controls it: the League of Entropy signs round r with a threshold BLS key every
3 seconds, the signature is deterministic (one valid value per round) and anyone checks it
against the network's public key, pinned here and in docs/draws.md.

- round time(r) = GENESIS + (r - 1) * PERIOD (Unix seconds);
- message(r) = SHA-256(r as 8 bytes big-endian);
- the signature is a compressed G1 point (48 bytes) over message(r) with the RFC 9380
  hash-to-curve suite DST, checked by e(signature, G2 generator) == e(H(message), public key);
- randomness(r) = SHA-256(signature).

The pairing check uses `py_arkworks_bls12381` (a wheel) and falls back to the pure-Python
`py_ecc`; `verify_draw.py` accepts either.
"""

from __future__ import annotations

import hashlib
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

NETWORK = "quicknet"
CHAIN_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
PUBLIC_KEY = (
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1"
    "fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"
)
SCHEME = "bls-unchained-g1-rfc9380"
DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
GENESIS = 1692803367
PERIOD = 3
#: the beacon round of a draw is the first round at or after freeze_at + MARGIN: the list must
#: be frozen before that round exists, and the margin leaves the admin time to freeze.
MARGIN = timedelta(minutes=10)
MAX_ROUND = 2**63 - 1
_SIGNATURE_RE = re.compile(r"[0-9a-f]{96}")


def round_time(round_number: int) -> datetime:
    """When round `round_number` is published (UTC)."""
    return datetime.fromtimestamp(GENESIS + (round_number - 1) * PERIOD, UTC)


def round_at_or_after(moment: datetime) -> int:
    """The first round published at or after `moment` (round 1 at genesis)."""
    elapsed = int(moment.timestamp()) - GENESIS
    if elapsed <= 0:
        return 1
    return -(-elapsed // PERIOD) + 1


def draw_round(freeze_at: datetime) -> int:
    """The beacon round a draw with this announced freeze time names at commit."""
    return round_at_or_after(freeze_at + MARGIN)


def message(round_number: int) -> bytes:
    return hashlib.sha256(round_number.to_bytes(8, "big")).digest()


def randomness(signature_hex: str) -> bytes:
    """SHA-256 of the signature bytes: the round's published randomness."""
    return hashlib.sha256(bytes.fromhex(signature_hex)).digest()


def is_signature_text(value: object) -> bool:
    return isinstance(value, str) and _SIGNATURE_RE.fullmatch(value) is not None


def beacon_json(round_number: int) -> dict[str, Any]:
    """The record's `beacon` object."""
    return {"network": NETWORK, "chain_hash": CHAIN_HASH, "round": round_number}


def _verify_arkworks(round_number: int, signature: bytes) -> bool:
    import py_arkworks_bls12381 as ark

    try:
        point = ark.G1Point.from_compressed_bytes(signature)
    except (ValueError, Exception):
        return False
    hashed = ark.G1Point.hash_to_curve(message(round_number), DST)
    public_key = ark.G2Point.from_compressed_bytes(bytes.fromhex(PUBLIC_KEY))
    return bool(ark.GT.pairing(point, ark.G2Point()) == ark.GT.pairing(hashed, public_key))


def _verify_py_ecc(round_number: int, signature: bytes) -> bool:
    # Importing py_ecc raises the whole process's recursion limit to 100,000; past the C stack,
    # deeply nested JSON (a notebook of 100,000 '[') then crashes the process instead of raising
    # RecursionError. The verification itself needs no deep recursion, so the limit is put back.
    limit = sys.getrecursionlimit()
    try:
        from py_ecc.bls.hash_to_curve import hash_to_G1
        from py_ecc.bls.point_compression import decompress_G1, decompress_G2
        from py_ecc.bls.typing import G1Compressed, G2Compressed
        from py_ecc.optimized_bls12_381 import FQ12, G2, final_exponentiate, neg
        from py_ecc.optimized_bls12_381.optimized_pairing import miller_loop
    finally:
        sys.setrecursionlimit(limit)

    key = bytes.fromhex(PUBLIC_KEY)
    try:
        point = decompress_G1(G1Compressed(int.from_bytes(signature, "big")))
    except (ValueError, AssertionError):
        return False
    public_key = decompress_G2(
        G2Compressed((int.from_bytes(key[:48], "big"), int.from_bytes(key[48:], "big")))
    )
    # py_ecc annotates the hash argument as a hash object; it is called as a constructor
    hashed = hash_to_G1(message(round_number), DST, hashlib.sha256)  # type: ignore[arg-type]
    product = miller_loop(G2, point) * miller_loop(neg(public_key), hashed)
    return bool(final_exponentiate(product) == FQ12.one())


def verify_round(round_number: int, signature_hex: str, backend: str | None = None) -> bool:
    """Whether `signature_hex` is the quicknet signature of `round_number`. `backend`:
    "arkworks", "py_ecc" or None (the first one installed)."""
    if not is_signature_text(signature_hex) or not 1 <= round_number <= MAX_ROUND:
        return False
    signature = bytes.fromhex(signature_hex)
    if backend in (None, "arkworks"):
        try:
            return _verify_arkworks(round_number, signature)
        except ImportError:
            if backend == "arkworks":
                raise
    return _verify_py_ecc(round_number, signature)
