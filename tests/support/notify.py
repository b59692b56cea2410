"""Notifications in tests: a real SMTP server on loopback (aiosmtpd) that keeps what it is sent,
a published lottery with known winners, and the inbox rows of a user."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.stacks import Stack, wait_for
from tests.support.web import add_user


@dataclass
class SmtpInbox:
    port: int = 0
    raw: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.raw.append(envelope.content)
        return "250 OK"

    def mails(self) -> list[Message]:
        return [message_from_bytes(r, policy=policy.default) for r in self.raw]

    def to(self, address: str) -> list[Message]:
        return [m for m in self.mails() if m["To"] == address]

    def wait_for(self, address: str, n: int = 1, timeout: float = 60.0) -> list[Message]:
        wait_for(lambda: len(self.to(address)) >= n, timeout=timeout)
        return self.to(address)


def body_of(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@contextmanager
def smtp_server() -> Iterator[SmtpInbox]:
    """An SMTP server on 127.0.0.1 at a free port; nothing leaves the machine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = SmtpInbox(port)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


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
