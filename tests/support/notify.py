"""Notifications in tests: a published lottery with known winners, the inbox rows of a user, and
the body of a mail caught by tests.support.mailbox."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from typing import Any

from tests.support.stacks import Stack
from tests.support.web import add_user


def body_of(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def run_lottery(stack: Stack, slug: str, code: str) -> int:
    """Commit, freeze (in 2023, so the draw names a real drand round) and reveal the homework's
    first reward rule; returns the draw's id."""
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import User
    from app.services import draws
    from app.services.courses import get_assignment
    from tests.support.homework import ROUND_123_SIGNATURE, freeze_in_2023, move_draw_to_2023

    admin_name = add_user(stack, "admin")
    with session_scope() as session:
        admin = session.scalar(select(User).where(User.name == admin_name))
        assert admin is not None
        draw = draws.commit_draw(session, get_assignment(session, slug, code), admin, rule_index=0,
                                 freeze_at=None, prize=None)
        draw_id = draw.id
    move_draw_to_2023(draw_id)
    freeze_in_2023(draw_id, admin_name)
    with session_scope() as session:
        admin = session.scalar(select(User).where(User.name == admin_name))
        draws.reveal_draw(session, draw_id, admin, beacon_signature=ROUND_123_SIGNATURE)
    return draw_id


@dataclass(frozen=True)
class Row:
    id: int
    kind: str
    key: str
    unread: bool
    mail_state: str
    link: str
    params: dict[str, Any]


def items_of(user_id: int) -> list[Row]:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Notification

    with session_scope() as session:
        rows = session.scalars(select(Notification).where(Notification.user_id == user_id)
                               .order_by(Notification.id))
        return [Row(n.id, n.kind, n.key, n.read_at is None, n.mail_state, n.link, dict(n.params))
                for n in rows]


def set_email(user_id: int, email: str, kinds: str = "", digest: bool = False) -> None:
    """An address and mail preferences, as the account page saves them."""
    from app.db import session_scope
    from app.models import User
    from app.services.notifications import save_prefs

    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.email = email
        save_prefs(session, user, [k for k in kinds.split(",") if k], digest)
