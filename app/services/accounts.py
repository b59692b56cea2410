"""Accounts: registration, log-in, roles and API tokens. Services add and flush, never commit."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.models import ApiToken, Role, User, utcnow
from app.security import hash_api_token, hash_password, new_api_token, verify_password
from app.services.audit import record

NAME_PATTERN = re.compile(r"^[\w\-.\u4e00-\u9fff]{2,32}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256


def validate_name(name: str) -> str:
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise Invalid(
            "A user name has 2 to 32 letters, digits, Chinese characters, '-', '_' or '.'"
        )
    return name


def validate_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid("A password has {low} to {high} characters", low=MIN_PASSWORD, high=MAX_PASSWORD)


def add_user(session: Session, name: str, password: str, role: Role = Role.student) -> User:
    name = validate_name(name)
    validate_password(password)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict("The name {name} is taken", name=name)
    user = User(name=name, password_hash=hash_password(password), role=role.value)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        return None
    return user


def get_user_by_name(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound("No user named {name}", name=name)
    return user


def set_role(session: Session, user: User, role: Role, actor: User | None) -> None:
    if user.role == role.value:
        return
    record(
        session,
        actor,
        "user.role",
        f"user:{user.id}",
        {"from": user.role, "to": role.value},
    )
    user.role = role.value


def create_token(session: Session, user: User, label: str = "") -> str:
    token = new_api_token()
    session.add(ApiToken(user_id=user.id, label=label[:64], token_hash=hash_api_token(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_api_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.is_active:
        return None
    row.last_used_at = utcnow()
    return row.user
