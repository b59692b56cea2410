"""The site's Ed25519 key for draw records and audit-chain heads (docs/draws.md §11.6).

`CAMP_DRAW_SIGNING_KEY` (64 hex characters) sets it; otherwise it is derived from the site's
secret key, so every installation has its own and keeps it across restarts. The public half is
served at /.well-known/camp-draw-key and printed by `camp draw verify`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from app.config import get_settings
from app.draws import signing
from app.draws.v3 import canonical_json


def private_key() -> bytes:
    settings = get_settings()
    if settings.draw_signing_key:
        return bytes.fromhex(settings.draw_signing_key)
    return hashlib.sha256(b"camp-draw-signing-key\x00" + settings.secret_key.encode("utf-8")).digest()


def public_key() -> str:
    return signing.public_key_hex(private_key())


def sign_record(record: dict[str, Any]) -> dict[str, Any]:
    """Version 3 records are signed; versions 1 and 2 stay byte for byte as they were."""
    if record.get("version") != 3:
        return record
    return signing.sign_record(record, private_key())


def signed_head(seq: int, head_hash: str) -> dict[str, Any]:
    """The audit chain head {"seq", "hash"} with the site's signature over its canonical JSON."""
    head = {"seq": seq, "hash": head_hash}
    return {**head, "signature": signing.sign_bytes(canonical_json(head), private_key()),
            "public_key": public_key()}
