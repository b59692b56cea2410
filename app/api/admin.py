"""Admin-only account management."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from app.api.account import TokenId, TokenOut
from app.api.schemas import UserOut
from app.deps import AdminUser, CsrfChecked, SessionDep
from app.errors import Forbidden
from app.models import Role, User
from app.services.accounts import all_users, get_user_by_name, reset_password_by_admin, set_active, set_role
from app.services.tokens import revoke_token, tokens_of

router = APIRouter(prefix="/admin", tags=["admin"])
Name = Annotated[str, Path(max_length=64)]


class RoleChange(BaseModel):
    role: Role


class ActiveChange(BaseModel):
    active: bool


class NewPassword(BaseModel):
    #: shown once: hand it to the user, who should change it
    password: str


def _not_self(user: User, admin: User) -> None:
    if user.id == admin.id:
        raise Forbidden("You cannot change your own role; ask another admin")


@router.get("/users")
def users(session: SessionDep, admin: AdminUser) -> list[UserOut]:
    return [UserOut.of(u) for u in all_users(session)]


@router.put("/users/{name}/role", dependencies=[CsrfChecked])
def change_role(name: Name, change: RoleChange, session: SessionDep, admin: AdminUser) -> UserOut:
    user = get_user_by_name(session, name)
    _not_self(user, admin)
    set_role(session, user, change.role, admin)
    return UserOut.of(user)


@router.put("/users/{name}/active", dependencies=[CsrfChecked])
def change_active(name: Name, change: ActiveChange, session: SessionDep, admin: AdminUser) -> UserOut:
    """Disable an account (its sessions end, its tokens stop working) or enable it again."""
    user = get_user_by_name(session, name)
    _not_self(user, admin)
    set_active(session, user, change.active, admin)
    return UserOut.of(user)


@router.post("/users/{name}/password", dependencies=[CsrfChecked])
def reset_password(name: Name, session: SessionDep, admin: AdminUser) -> NewPassword:
    """A new random password for the account; its sessions end."""
    user = get_user_by_name(session, name)
    _not_self(user, admin)
    return NewPassword(password=reset_password_by_admin(session, user, admin))


@router.get("/users/{name}/tokens")
def user_tokens(name: Name, session: SessionDep, admin: AdminUser) -> list[TokenOut]:
    return [TokenOut.of(t) for t in tokens_of(session, get_user_by_name(session, name))]


@router.delete("/tokens/{token_id}", dependencies=[CsrfChecked])
def revoke_any_token(token_id: TokenId, session: SessionDep, admin: AdminUser) -> TokenOut:
    return TokenOut.of(revoke_token(session, token_id, admin))
