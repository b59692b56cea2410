"""Password hashing, API tokens and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
#: argon2 takes 64 MiB and most of a core per hash: a burst of log-ins (24 at once used 1.6 GB
#: and stalled the site) waits here for one of a few turns instead
ARGON2_AT_ONCE = 2
_turns = threading.BoundedSemaphore(ARGON2_AT_ONCE)
#: verified when the name is unknown, so that "no such user" takes as long as "wrong password"
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

TOKEN_PREFIX = "camp_"


def hash_password(password: str) -> str:
    with _turns:
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """`password_hash` None (no such account) still costs one verification, and fails."""
    try:
        with _turns:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    """A token is shown once; the database keeps only `hash_api_token(token)`."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
