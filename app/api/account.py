"""The caller's own account: API tokens and password."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from app.deps import CsrfChecked, CurrentUser, SessionDep
from app.models import ApiToken
from app.services.accounts import change_password
from app.services.tokens import MAX_TOKEN_DAYS, create_token, revoke_token, tokens_of

router = APIRouter(prefix="/me", tags=["account"])
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class TokenOut(BaseModel):
    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken) -> TokenOut:
        return cls(id=row.id, label=row.label, created_at=row.created_at, last_used_at=row.last_used_at,
                   expires_at=row.expires_at, revoked_at=row.revoked_at)


class TokenIn(BaseModel):
    label: str = Field(min_length=1, max_length=64)
    #: None: the token never expires
    expires_days: int | None = Field(default=90, ge=1, le=MAX_TOKEN_DAYS)


class NewToken(TokenOut):
    #: shown once; only its hash is kept
    token: str


class PasswordChange(BaseModel):
    current: str = Field(max_length=256)
    new: str = Field(max_length=256)


@router.get("/tokens")
def my_tokens(session: SessionDep, user: CurrentUser) -> list[TokenOut]:
    return [TokenOut.of(t) for t in tokens_of(session, user)]


@router.post("/tokens", status_code=201, dependencies=[CsrfChecked])
def new_token(body: TokenIn, session: SessionDep, user: CurrentUser) -> NewToken:
    token = create_token(session, user, body.label, body.expires_days)
    row = tokens_of(session, user)[0]
    return NewToken(token=token, **TokenOut.of(row).model_dump())


@router.delete("/tokens/{token_id}", dependencies=[CsrfChecked])
def revoke(token_id: TokenId, session: SessionDep, user: CurrentUser) -> TokenOut:
    return TokenOut.of(revoke_token(session, token_id, user))


@router.post("/password", status_code=204, dependencies=[CsrfChecked])
def password(body: PasswordChange, session: SessionDep, user: CurrentUser) -> None:
    """Change the password; every session cookie of the account stops working (tokens do not)."""
    change_password(session, user, body.current, body.new)
