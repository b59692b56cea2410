"""Password hashing, API tokens and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.config import get_settings

#: argon2 takes 64 MiB and most of a core per hash: a burst of log-ins (24 at once used 1.6 GB
#: and stalled the site) waits here for one of a few turns instead
ARGON2_AT_ONCE = 2
_turns = threading.BoundedSemaphore(ARGON2_AT_ONCE)

TOKEN_PREFIX = "camp_"


def hasher() -> PasswordHasher:
    """The argon2id hasher at the settings' cost (verifying reads the cost from the hash)."""
    settings = get_settings()
    return _hasher(settings.password_hash_iterations, settings.password_hash_memory_kib)


@lru_cache
def _hasher(iterations: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=iterations, memory_cost=memory_kib)


@lru_cache
def _dummy_hash(argon2: PasswordHasher) -> str:
    """Verified when the name is unknown, so that "no such user" takes as long as "wrong password"."""
    return argon2.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    with _turns:
        return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """`password_hash` None (no such account) still costs one verification, and fails."""
    argon2 = hasher()
    try:
        with _turns:
            return argon2.verify(password_hash or _dummy_hash(argon2), password) and password_hash is not None
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
