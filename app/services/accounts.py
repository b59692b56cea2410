"""Accounts: registration, log-in, passwords, roles, disabling. Services add and flush, never commit.

Every change that should throw an attacker out (log-out, password change or reset, role change,
disable) moves `User.session_version`: session cookies carry the version they were issued with
and stop working when it moves (app/deps.py).
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.models import Role, User
from app.names import name_key
from app.security import hash_password, verify_password
from app.services.audit import record
from app.services.tokens import create_token as create_token  # re-exported for older callers
from app.services.tokens import user_for_token as user_for_token

NAME_PATTERN = re.compile(r"^[\w\-.\u4e00-\u9fff]{2,32}$")
EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]{1,189}\.[^@\s\x00-\x1f.]{1,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256


def validate_name(name: str) -> str:
    name = unicodedata.normalize("NFKC", name.strip())
    if not NAME_PATTERN.match(name):
        raise Invalid(
            "A user name has 2 to 32 letters, digits, Chinese characters, '-', '_' or '.'"
        )
    return name


def validate_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid("A password has {low} to {high} characters", low=MIN_PASSWORD, high=MAX_PASSWORD)


def validate_email(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise Invalid("{email} is not an e-mail address", email=email[:80])
    return email


def add_user(session: Session, name: str, password: str, role: Role = Role.student,
             email: str | None = None) -> User:
    name = validate_name(name)
    validate_password(password)
    key = name_key(name)
    if session.scalar(select(User.id).where(User.name_key == key)) is not None:
        raise Conflict("The name {name} is taken (or looks too much like a name that is)", name=name)
    user = User(name=name, name_key=key, password_hash=hash_password(password), role=role.value,
                email=validate_email(email))
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, name: str) -> User | None:
    """The account a typed name means: `Root` and `ｒｏｏｔ` find `root`."""
    return session.scalar(select(User).where(User.name_key == name_key(name.strip())))


def authenticate(session: Session, name: str, password: str) -> User | None:
    user = find_user(session, name)
    ok = verify_password(user.password_hash if user else None, password)  # same cost either way
    if user is None or not ok or not user.is_active:
        return None
    return user


def get_user_by_name(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name)) or find_user(session, name)
    if user is None:
        raise NotFound("No user named {name}", name=name)
    return user


def end_sessions(user: User) -> None:
    """Every session cookie issued to `user` so far stops working."""
    user.session_version += 1


def set_role(session: Session, user: User, role: Role, actor: User | None) -> None:
    if user.role == role.value:
        return
    record(session, actor, "user.role", f"user:{user.id}", {"from": user.role, "to": role.value})
    user.role = role.value
    end_sessions(user)


def set_active(session: Session, user: User, active: bool, actor: User | None) -> None:
    """Disable (or enable again) an account; disabling ends its sessions, its tokens stop working."""
    if user.is_active == active:
        return
    record(session, actor, "user.enable" if active else "user.disable", f"user:{user.id}")
    user.is_active = active
    end_sessions(user)


def set_password(session: Session, user: User, password: str, actor: User | None, how: str) -> None:
    validate_password(password)
    user.password_hash = hash_password(password)
    end_sessions(user)
    record(session, actor, "user.password", f"user:{user.id}", {"how": how})


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise Invalid("The current password is wrong")
    set_password(session, user, new, user, "changed")


def reset_password_by_admin(session: Session, user: User, actor: User | None) -> str:
    """A new random password, shown once to the admin who hands it over."""
    password = secrets.token_urlsafe(12)
    set_password(session, user, password, actor, "reset by admin")
    return password


def record_creation(session: Session, user: User, actor: User | None, via: str) -> None:
    record(session, actor, "user.create", f"user:{user.id}", {"name": user.name, "role": user.role,
                                                               "via": via})



def search_users(session: Session, q: str, role: str | None, offset: int,
                 limit: int) -> tuple[list[User], int]:
    """Users whose name contains `q` (any case), of `role` when given, by id: a page and the total."""
    query = select(User)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(User.name).like(f"%{escaped.lower()}%", escape="\\"))
    if role is not None:
        query = query.where(User.role == role)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = session.scalars(query.order_by(User.id).offset(offset).limit(limit))
    return list(users), total


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))
