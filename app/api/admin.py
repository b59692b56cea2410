"""Admin-only account management."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from app.api.schemas import UserOut
from app.deps import AdminUser, CsrfChecked, SessionDep
from app.models import Role, User
from app.services.accounts import get_user_by_name, set_role

router = APIRouter(prefix="/admin", tags=["admin"])


class RoleChange(BaseModel):
    role: Role


@router.get("/users")
def users(session: SessionDep, admin: AdminUser) -> list[UserOut]:
    return [UserOut.of(u) for u in session.scalars(select(User).order_by(User.id))]


@router.put("/users/{name}/role", dependencies=[CsrfChecked])
def change_role(name: str, change: RoleChange, session: SessionDep, admin: AdminUser) -> UserOut:
    user = get_user_by_name(session, name)
    set_role(session, user, change.role, admin)
    return UserOut.of(user)
