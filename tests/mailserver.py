"""A real SMTP server for the tests, built on aiosmtpd; it can be told to refuse mail."""

from __future__ import annotations

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
        with self.server.lock:
            if self.server.refuse_next > 0:
                self.server.refuse_next -= 1
                return "451 4.3.0 Try again later"
            self.server.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        return "250 Message accepted for delivery"


class MailServer:
    """Collects the messages it receives; `refuse_next` answers that many with 451."""

    def __init__(self, port: int):
        self.port = port
        self.messages: list[Message] = []
        self.refuse_next = 0
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


def body_of(message: Message) -> str:
    """The decoded text body of a message."""
    if message.is_multipart():
        message = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
