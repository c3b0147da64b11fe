"""E-mail: rendered when queued (so what is sent is what was committed), sent by a task."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import threading
import time
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_mailman import EmailMultiAlternatives
from jinja2 import TemplateNotFound
from sqlalchemy import update

from grants.core.models import utcnow
from grants.core.outbox import OutboxMessage, queue_task, register_batch_task
from grants.extensions import db
from grants.extensions import mail as mailman

log = logging.getLogger(__name__)

MAIL_TASK = "mail.send"
# Many mails of one transaction (a digest run, an event with many recipients) travel 25 ids to
# a Celery message; each row is still delivered, counted and retried on its own.
MAIL_BATCH_TASK = "mail.send_batch"
register_batch_task(MAIL_TASK, MAIL_BATCH_TASK, size=25)


def render_mail(template_name: str, locale: str, **context: Any) -> tuple[str, str]:
    """Render an e-mail template to (subject, body) in the given locale."""
    subject, body, _html = render_mail_parts(template_name, locale, **context)
    return subject, body


def render_mail_parts(
    template_name: str, locale: str, **context: Any
) -> tuple[str, str, str | None]:
    """Render (subject, text body, HTML body or None) in the given locale.

    The subject comes from the text template's `{% set subject %}`; the HTML template
    (`.html`, autoescaped) is optional for mails that have none yet.
    """
    with force_locale(locale):
        current_app.update_template_context(context)
        template = current_app.jinja_env.get_template(f"emails/{template_name}.txt")
        module = template.make_module(context)
        subject = " ".join(str(module.subject).split())
        body = str(module).strip() + "\n"
        try:
            html_template = current_app.jinja_env.get_template(f"emails/{template_name}.html")
        except TemplateNotFound:
            return subject, body, None
        html = html_template.render({**context, "subject": subject})
        return subject, body, html


def queue_mail(
    to: str,
    template_name: str,
    locale: str,
    event: str | None = None,
    flush: bool = True,
    **context: Any,
) -> OutboxMessage:
    """Render a mail and record its delivery in the outbox of the current transaction."""
    subject, body, html = render_mail_parts(template_name, locale, **context)
    payload = {"to": [to], "subject": subject, "body": body, "template": template_name}
    if html is not None:
        payload["html"] = html
    if event is not None:
        payload["event"] = event
    return queue_task(MAIL_TASK, payload, flush=flush)


def deliver_mail(message_id: int, connection=None) -> bool:
    """Send one queued mail unless it was sent already; True when this call sent it.

    The row stays locked while the mail is handed to the SMTP server, so a second delivery of
    the same row waits and then finds it done. `connection` is an
    open mail connection to reuse (the worker keeps one per process).
    """
    table = OutboxMessage.__table__
    # Counting the attempt locks the row; a second delivery of the same row waits here until
    # this transaction ends, then finds the row no longer pending and sends nothing.
    payload = db.session.execute(
        update(table)
        .where(table.c.id == message_id, table.c.status == "pending")
        .values(attempts=table.c.attempts + 1)
        .returning(table.c.payload)
    ).scalar()
    if payload is None:
        db.session.rollback()
        return False
    mail = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        to=payload["to"],
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        headers={"X-Grants-Outbox-Id": str(message_id)},
        connection=connection,
    )
    if payload.get("html"):
        mail.attach_alternative(payload["html"], "text/html")
    mail.send()
    db.session.execute(
        update(table)
        .where(table.c.id == message_id)
        .values(status="done", processed_at=utcnow(), next_attempt_at=None, last_error=None)
    )
    return True


def is_transient_error(exc: Exception) -> bool:
    """True for failures worth another try: the server is unreachable or answers 4xx."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)


class ConnectionCache(threading.local):
    """One SMTP connection per worker thread, reused between mails and reopened when stale.

    Opening a connection (TCP, greeting, EHLO, maybe TLS and login) costs more than sending a
    short mail; a worker sending thousands of mails keeps it open. Other backends (file,
    console) are cheap and are not cached.
    """

    def __init__(self, max_idle_seconds: float = 30.0):
        self.max_idle_seconds = max_idle_seconds
        self.connection = None
        self.last_used = 0.0

    def get(self):
        """An open connection for the SMTP backend, or None (send opens its own)."""
        if current_app.config.get("MAIL_BACKEND", "smtp") != "smtp":
            return None
        now = time.monotonic()
        if self.connection is not None and now - self.last_used > self.max_idle_seconds:
            self.drop()
        if self.connection is None:
            connection = mailman.get_connection()
            connection.open()
            self.connection = connection
        self.last_used = now
        return self.connection

    def drop(self) -> None:
        """Close the cached connection (after an error, or when it idled too long)."""
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()


smtp_connections = ConnectionCache()
