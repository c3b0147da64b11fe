"""Thin tasks: take ids, reload from the database, call a grants operation, commit."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval
from flask import current_app

from grants.core import outbox
from grants.core.models import utcnow
from grants.extensions import db
from grants.letters import operations as letters
from grants.notifications import mail, reminders

log = logging.getLogger(__name__)

# The retry policy is read from the config (MAIL_RETRY_*), so tests can make it fast.
MAIL_MAX_RETRIES = 8


def _send_once(message_id: int) -> bool:
    """Deliver with the process's SMTP connection; a connection that went stale is reopened."""
    try:
        return mail.deliver_mail(message_id, connection=mail.smtp_connections.get())
    except smtplib.SMTPServerDisconnected:
        # The kept connection was closed by the server while idle: one fresh try at once.
        db.session.rollback()
        mail.smtp_connections.drop()
        return mail.deliver_mail(message_id, connection=mail.smtp_connections.get())


def _backoff(retries: int) -> int:
    config = current_app.config
    return get_exponential_backoff_interval(
        factor=config.get("MAIL_RETRY_BACKOFF", 5),
        retries=retries,
        maximum=config.get("MAIL_RETRY_BACKOFF_MAX", 600),
        full_jitter=config.get("MAIL_RETRY_JITTER", True),
    )


def _note_failure(message_id: int, exc: Exception, retries: int) -> int | None:
    """Record a failed attempt; the countdown to the next one, or None when it failed for good."""
    db.session.rollback()
    mail.smtp_connections.drop()
    max_retries = current_app.config.get("MAIL_MAX_RETRIES", MAIL_MAX_RETRIES)
    retry = mail.is_transient_error(exc) and retries < max_retries
    countdown = _backoff(retries) if retry else None
    retry_at = utcnow() + timedelta(seconds=countdown) if retry else None
    outbox.record_failure(
        message_id, f"{type(exc).__name__}: {exc}", final=not retry, retry_at=retry_at
    )
    db.session.commit()
    return countdown


@shared_task(bind=True, name=mail.MAIL_TASK, max_retries=None)
def send_mail(self, message_id: int) -> bool:
    """Deliver one outbox e-mail; a second delivery of the same row sends nothing."""
    try:
        sent = _send_once(message_id)
        db.session.commit()
        return sent
    except Exception as exc:
        countdown = _note_failure(message_id, exc, self.request.retries)
        if countdown is None:
            raise
        raise self.retry(exc=exc, countdown=countdown) from exc


# A letter renders in about a second; the soft limit stops a runaway document long before
# the broker's visibility timeout (one hour) would hand it to a second worker.
LETTER_SOFT_TIME_LIMIT = 60
LETTER_TIME_LIMIT = 90
LETTER_MAX_RETRIES = 3


@shared_task(
    bind=True,
    name=letters.RENDER_TASK,
    max_retries=LETTER_MAX_RETRIES,
    soft_time_limit=LETTER_SOFT_TIME_LIMIT,
    time_limit=LETTER_TIME_LIMIT,
)
def render_letter(self, message_id: int) -> int | None:
    """Issue the decision letter an outbox row asks for; a second run issues nothing."""
    try:
        letter = letters.issue_from_outbox(message_id)
        db.session.commit()
        return letter.id if letter else None
    except Exception as exc:
        db.session.rollback()
        retry = (
            not isinstance(exc, letters.LetterError | SoftTimeLimitExceeded)
            and self.request.retries < self.max_retries
        )
        outbox.record_failure(message_id, f"{type(exc).__name__}: {exc}", final=not retry)
        db.session.commit()
        if not retry:
            raise
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc


@shared_task(name=mail.MAIL_BATCH_TASK)
def send_mail_batch(message_ids: list[int]) -> int:
    """Deliver several outbox e-mails in turn, each in its own transaction.

    A row that fails for a passing reason goes on alone as `mail.send` with its backoff, so
    it does not hold up the others; one that fails for good is marked failed.
    """
    sent = 0
    for message_id in message_ids:
        try:
            sent += _send_once(message_id)
            db.session.commit()
        except Exception as exc:
            countdown = _note_failure(message_id, exc, retries=0)
            if countdown is None:
                continue
            try:
                send_mail.apply_async(args=[message_id], countdown=countdown, retries=1)
            except Exception:  # the broker is gone too: the sweep finds the row when it is due
                log.exception("retry of outbox message %s not queued", message_id)
    return sent


@shared_task(name="outbox.sweep")
def sweep_outbox() -> int:
    """Dispatch again the outbox rows that were never picked up (or whose retry was lost)."""
    grace = timedelta(seconds=current_app.config.get("OUTBOX_SWEEP_AFTER_SECONDS", 600))
    stale = outbox.stale_messages(older_than=grace)
    db.session.rollback()
    outbox.dispatch(stale)
    return len(stale)


def _run_reminder(job) -> int:
    try:
        count = job(utcnow())
        db.session.commit()
        return count
    except Exception:
        db.session.rollback()
        raise


@shared_task(name="reminders.call_closing")
def remind_call_closing() -> int:
    """Remind applicants of drafts whose call closes within 7 days and within 1 day."""
    return _run_reminder(reminders.remind_call_closing)


@shared_task(name="reminders.change_requests")
def remind_change_requests() -> int:
    """Remind applicants of change requests due in 3 days or overdue (staff when overdue)."""
    return _run_reminder(reminders.remind_change_requests)


@shared_task(name="reminders.sign_offs")
def remind_sign_offs() -> int:
    """Remind approvers of proposals waiting more than 3 working days."""
    return _run_reminder(reminders.remind_sign_offs)


@shared_task(name="reminders.staff_digest")
def send_staff_digest() -> int:
    """Send each case worker the daily digest of new and overdue applications."""
    return _run_reminder(reminders.send_staff_digest)


@shared_task(name="reminders.all")
def run_all_reminders() -> int:
    """Every reminder job in turn (for a manual run: `celery call reminders.all`)."""
    return _run_reminder(reminders.run_all)
