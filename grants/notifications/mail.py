"""E-mail: rendered when queued (so what is sent is what was committed), sent by a task."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_mailman import EmailMessage

from grants.core.models import utcnow
from grants.core.outbox import OutboxMessage, queue_task
from grants.extensions import db

log = logging.getLogger(__name__)

MAIL_TASK = "mail.send"


def render_mail(template_name: str, locale: str, **context: Any) -> tuple[str, str]:
    """Render an e-mail template to (subject, body) in the given locale."""
    with force_locale(locale):
        template = current_app.jinja_env.get_template(f"emails/{template_name}.txt")
        current_app.update_template_context(context)
        module = template.make_module(context)
        return str(module.subject).strip(), str(module).strip() + "\n"


def queue_mail(to: str, template_name: str, locale: str, **context: Any) -> OutboxMessage:
    """Render a mail and record its delivery in the outbox of the current transaction."""
    subject, body = render_mail(template_name, locale, **context)
    return queue_task(
        MAIL_TASK,
        {"to": [to], "subject": subject, "body": body, "template": template_name},
    )


def deliver_mail(message_id: int) -> bool:
    """Send one queued mail unless it was sent already; True when this call sent it."""
    message = db.session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.status != "pending":
        db.session.rollback()
        return False
    message.attempts += 1
    payload = message.payload
    EmailMessage(
        subject=payload["subject"],
        body=payload["body"],
        to=payload["to"],
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        headers={"X-Grants-Outbox-Id": str(message.id)},
    ).send()
    message.status = "done"
    message.processed_at = utcnow()
    message.last_error = None
    db.session.flush()
    return True


def record_failure(message_id: int, error: str, final: bool) -> None:
    """Note a failed attempt; a final failure marks the row failed for an admin to see."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status == "done":
        return
    message.attempts += 1
    message.last_error = error[:2000]
    if final:
        message.status = "failed"
        message.processed_at = utcnow()
        log.error("outbox message %s failed for good: %s", message_id, error)
    db.session.flush()


def is_transient_error(exc: Exception) -> bool:
    """True for failures worth another try: the server is unreachable or answers 4xx."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)
