"""A real SMTP server on 127.0.0.1 for tests and benchmarks (aiosmtpd).

``smtp_server()`` yields a ``Mailbox``: the messages it accepted, parsed,
with a condition variable so tests wait for mail instead of sleeping.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One accepted message: envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    session_peer: Any


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)
    reject_rcpt: set[str] = field(default_factory=set)

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Block until at least ``count`` messages arrived (fails the test on timeout)."""
        with self.changed:
            ok = self.changed.wait_for(lambda: len(self.messages) >= count, timeout)
        if not ok:
            raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
        return list(self.messages)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.box.changed:
            self.box.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.box.reject_rcpt:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.box.changed:
            self.box.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, session.peer)
            )
            self.box.changed.notify_all()
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """Run an SMTP server on a free loopback port for the duration of the block."""
    port = _free_port()
    box = Mailbox("127.0.0.1", port)
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
