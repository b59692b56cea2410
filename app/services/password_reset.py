"""Password-reset links: signed, valid for an hour, and only until the password changes.

The link carries the account id and a fingerprint of the current password hash, signed with the
site's secret (itsdangerous); no table is needed, and a used link (or an old one, once any reset
happened) no longer matches.
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app.models import User

SALT = "camp.password-reset"
VALID_SECONDS = 3600


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def reset_token(secret: str, user: User) -> str:
    return URLSafeTimedSerializer(secret, salt=SALT).dumps({"u": user.id, "h": _fingerprint(user)})


def user_for_reset_token(session: Session, secret: str, token: str) -> User | None:
    try:
        data = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=VALID_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not -2**31 < data["u"] < 2**31:
        return None
    user = session.get(User, data["u"])
    if user is None or not user.is_active or data.get("h") != _fingerprint(user):
        return None
    return user
