"""The caller's inbox as JSON: the items (written in the caller's language), the unread count,
marking read. Only the caller's own items: another's id answers 404."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from app import paging
from app.deps import CsrfChecked, CurrentUser, SessionDep, get_locale
from app.services import notifications

router = APIRouter(prefix="/me/notifications", tags=["notifications"])
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class NotificationOut(notifications.Item):
    """One inbox item, as the inbox page shows it."""


class Inbox(BaseModel):
    unread: int
    total: int
    items: list[NotificationOut]


@router.get("")
def list_notifications(request: Request, session: SessionDep, user: CurrentUser,
                       offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
                       limit: Annotated[int, Query(ge=1, le=100)] = paging.INBOX_PAGE) -> Inbox:
    """Newest first."""
    items = notifications.inbox(session, user.id, get_locale(request), offset=offset, limit=limit)
    return Inbox(unread=notifications.unread_count(session, user.id),
                 total=notifications.count(session, user.id),
                 items=[NotificationOut(**asdict(i)) for i in items])


@router.post("/{item_id}/read", dependencies=[CsrfChecked], status_code=204)
def read_notification(item_id: ItemId, session: SessionDep, user: CurrentUser) -> None:
    notifications.mark_read(session, user.id, item_id)


@router.post("/read", dependencies=[CsrfChecked])
def read_all_notifications(session: SessionDep, user: CurrentUser) -> dict[str, int]:
    """Mark every unread item read; returns how many were."""
    return {"marked": notifications.mark_all_read(session, user.id)}
