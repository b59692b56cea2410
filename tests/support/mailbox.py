"""A real SMTP server on loopback (aiosmtpd) that keeps what it is sent, for every test that
reads mail (password resets, notifications); nothing leaves the machine."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.stacks import wait_for


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
