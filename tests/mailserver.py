"""A real SMTP server for the tests, built on aiosmtpd; it can be told to refuse mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import Message

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        server = self.server
        with server.lock:
            hold = server.hold_next > 0
            if hold:
                server.hold_next -= 1
                server.held.set()
        if hold:
            # Keep the client waiting for the answer to DATA (without blocking the loop for
            # other connections) until the test releases it.
            while not server.release.is_set():
                await asyncio.sleep(0.05)
            if smtp.transport is None or smtp.transport.is_closing():
                # The client is gone before it heard "250": the mail was not accepted.
                with server.lock:
                    server.dropped += 1
                return "451 4.4.2 Connection lost"
        with server.lock:
            if server.reject_next > 0:
                server.reject_next -= 1
                return "550 5.1.1 Mailbox unavailable"
            if server.refuse_next > 0:
                server.refuse_next -= 1
                return "451 4.3.0 Try again later"
            server.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        return "250 Message accepted for delivery"


class MailServer:
    """Collects the messages it receives.

    `refuse_next` answers that many messages with 451 (try again), `reject_next` with 550
    (permanent), and `hold_next` keeps that many waiting for the answer to DATA until
    `release` is set (`held` is set when one is waiting).
    """

    def __init__(self, port: int):
        self.port = port
        self.messages: list[Message] = []
        self.refuse_next = 0
        self.reject_next = 0
        self.hold_next = 0
        self.dropped = 0
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.refuse_next = 0
            self.reject_next = 0
            self.hold_next = 0
            self.dropped = 0
            self.held.clear()
            self.release.clear()

    def wait_for(
        self, count: int = 1, timeout: float = 30.0, to: str | None = None
    ) -> list[Message]:
        """Wait until `count` messages (to `to`, if given) have arrived; return them."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [m for m in self.messages if to is None or to in m["To"]]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"expected {count} mails, got {len(found)}"
                return found
            time.sleep(0.1)


def html_of(message: Message) -> str | None:
    """The decoded HTML alternative of a message, if it has one."""
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return None


def body_of(message: Message) -> str:
    """The decoded text body of a message."""
    if message.is_multipart():
        message = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
