"""The verbs of notifications: they flush, the caller commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort, current_app
from sqlalchemy import func, select, update

from grants.auth.models import User
from grants.core import audit, outbox
from grants.core.models import utcnow
from grants.core.outbox import OutboxMessage
from grants.extensions import db
from grants.notifications.events import opted_out, optional_events_for
from grants.notifications.models import EmailOptOut, Notification

log = logging.getLogger(__name__)

PAGE_SIZE = 50


class OutboxError(Exception):
    """An outbox row that cannot be retried (it is not failed)."""


# In-app notifications ---------------------------------------------------------------------


def unread_count(user: User) -> int:
    """How many notifications the user has not read yet."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def notifications_of(user: User, limit: int = PAGE_SIZE) -> list[Notification]:
    """The user's newest notifications."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def get_own_notification_or_404(user: User, notification_id: int) -> Notification:
    """The user's notification; another user's answers 404."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        abort(404)
    return notification


def mark_read(notification: Notification) -> None:
    """Mark one notification as read (reading it twice keeps the first time)."""
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user as read; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount


# E-mail preferences ----------------------------------------------------------------------


def save_email_preferences(user: User, wanted: set[str]) -> None:
    """Keep e-mails of the optional events in `wanted`, switch the others off."""
    optional = {name for name, _event in optional_events_for(user)}
    current = opted_out(user)
    new = optional - wanted
    for event in new - current:
        db.session.add(EmailOptOut(user_id=user.id, event=event))
    for event in (current - new) & optional:
        db.session.execute(
            EmailOptOut.__table__.delete().where(
                EmailOptOut.user_id == user.id, EmailOptOut.event == event
            )
        )
    audit.record("user.email_preferences", user, actor=user, switched_off=sorted(new))


# The outbox, for administrators -----------------------------------------------------------


@dataclass
class OutboxHealth:
    pending: int
    failed: int
    done_last_day: int
    oldest_pending_at: datetime | None
    failed_rows: list[OutboxMessage]
    recent_rows: list[OutboxMessage]
    queues: dict[str, int | None]
    eviction_policy: str | None

    @property
    def oldest_pending_age(self) -> timedelta | None:
        return utcnow() - self.oldest_pending_at if self.oldest_pending_at else None


QUEUES = ("mail", "default", "documents")


def broker_state() -> tuple[dict[str, int | None], str | None]:
    """Tasks waiting per queue and Redis's eviction policy (None when unknown)."""
    celery = current_app.extensions["celery"]
    lengths: dict[str, int | None] = dict.fromkeys(QUEUES)
    policy = None
    if not str(celery.conf.broker_url or "").startswith("redis"):
        return lengths, policy
    try:
        with celery.connection_for_read() as connection:
            client = connection.default_channel.client
            for queue in QUEUES:
                lengths[queue] = client.llen(queue)
            policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except Exception:  # the page still shows the outbox when Redis does not answer
        log.warning("broker state unavailable", exc_info=True)
    return lengths, policy


def outbox_health(recent: int = 20, failed_limit: int = 100) -> OutboxHealth:
    """Pending and failed rows, the oldest pending one, recent deliveries, broker queues."""
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")
    )
    done_last_day = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status == "done",
            OutboxMessage.processed_at >= utcnow() - timedelta(days=1),
        )
    )
    failed_rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.processed_at.desc(), OutboxMessage.id.desc())
        .limit(failed_limit)
    ).all()
    recent_rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "done")
        .order_by(OutboxMessage.processed_at.desc(), OutboxMessage.id.desc())
        .limit(recent)
    ).all()
    queues, policy = broker_state()
    return OutboxHealth(
        pending=counts.get("pending", 0),
        failed=counts.get("failed", 0),
        done_last_day=done_last_day,
        oldest_pending_at=oldest,
        failed_rows=list(failed_rows),
        recent_rows=list(recent_rows),
        queues=queues,
        eviction_policy=policy,
    )


def retry_outbox_message(message: OutboxMessage, actor: User) -> None:
    """Give a failed row another go: pending again, dispatched after the commit."""
    if message.status != "failed":
        raise OutboxError("not_failed")
    outbox.requeue(message)
    audit.record(
        "outbox.retried", message, actor=actor, task=message.task, error=message.last_error
    )
