"""Ed25519 signatures on version 3 records and on audit-chain heads.

A record's `signature` is {"alg": "ed25519", "public_key": hex, "value": hex} over the
canonical JSON (`app.draws.v3.canonical_json`) of the record without its `signature` key. The
site's public key is served at /.well-known/camp-draw-key and printed by `camp draw verify`;
a verifier compares the record's `public_key` with the one it trusts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.draws.v3 import canonical_json

ALG = "ed25519"


def new_private_key() -> bytes:
    """32 raw bytes of a fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def public_key_hex(private_key: bytes) -> str:
    public = Ed25519PrivateKey.from_private_bytes(private_key).public_key()
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def signed_bytes(record: Mapping[str, Any]) -> bytes:
    return canonical_json({name: value for name, value in record.items() if name != "signature"})


def sign_record(record: Mapping[str, Any], private_key: bytes) -> dict[str, Any]:
    """The record with its `signature` set (over every other key)."""
    signer = Ed25519PrivateKey.from_private_bytes(private_key)
    value = signer.sign(signed_bytes(record)).hex()
    signature = {"alg": ALG, "public_key": public_key_hex(private_key), "value": value}
    return {**record, "signature": signature}


def sign_bytes(data: bytes, private_key: bytes) -> str:
    return Ed25519PrivateKey.from_private_bytes(private_key).sign(data).hex()


def verify_bytes(data: bytes, signature_hex: str, public_key_hex_: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex_))
        key.verify(bytes.fromhex(signature_hex), data)
    except (ValueError, InvalidSignature):
        return False
    return True


def is_signature_object(value: object) -> bool:
    if not isinstance(value, Mapping) or sorted(value) != ["alg", "public_key", "value"]:
        return False
    key, sig = value["public_key"], value["value"]
    return (
        value["alg"] == ALG
        and isinstance(key, str) and len(key) == 64 and _is_hex(key)
        and isinstance(sig, str) and len(sig) == 128 and _is_hex(sig)
    )  # fmt: skip


def _is_hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text)


def verify_record_signature(record: Mapping[str, Any]) -> bool:
    signature = record.get("signature")
    if not is_signature_object(signature):
        return False
    assert isinstance(signature, Mapping)
    return verify_bytes(signed_bytes(record), signature["value"], signature["public_key"])
