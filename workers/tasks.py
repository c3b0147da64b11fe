"""Thin tasks: take ids, reload from the database, call a grants operation, commit."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval

from grants.core import outbox
from grants.extensions import db
from grants.letters import operations as letters
from grants.notifications import mail

MAIL_MAX_RETRIES = 8


@shared_task(bind=True, name=mail.MAIL_TASK, max_retries=MAIL_MAX_RETRIES)
def send_mail(self, message_id: int) -> bool:
    """Deliver one outbox e-mail; a second delivery of the same row sends nothing."""
    try:
        sent = mail.deliver_mail(message_id)
        db.session.commit()
        return sent
    except Exception as exc:
        db.session.rollback()
        retry = mail.is_transient_error(exc) and self.request.retries < self.max_retries
        mail.record_failure(message_id, f"{type(exc).__name__}: {exc}", final=not retry)
        db.session.commit()
        if not retry:
            raise
        countdown = get_exponential_backoff_interval(
            factor=5, retries=self.request.retries, maximum=600, full_jitter=True
        )
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
        mail.record_failure(message_id, f"{type(exc).__name__}: {exc}", final=not retry)
        db.session.commit()
        if not retry:
            raise
        raise self.retry(exc=exc, countdown=30 * (self.request.retries + 1)) from exc


@shared_task(name="outbox.sweep")
def sweep_outbox() -> int:
    """Dispatch again the outbox rows that were never picked up."""
    stale = outbox.stale_messages()
    outbox.dispatch(stale)
    return len(stale)
