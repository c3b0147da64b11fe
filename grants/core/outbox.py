"""The outbox: background work is written in the transaction and handed to Celery after commit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import JSON, CheckConstraint, Integer, String, Text, func, inspect, select
from sqlalchemy.orm import Mapped, mapped_column

from grants.core.models import UTCDateTime, utcnow
from grants.core.transactions import on_commit, on_rollback
from grants.extensions import db

log = logging.getLogger(__name__)

_PENDING = "outbox_pending"


class OutboxMessage(db.Model):
    """One piece of background work: a Celery task name and its JSON payload."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done', 'failed')", name="status_valid"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a retry is scheduled: the sweep leaves the row alone until then.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def queue_task(task: str, payload: dict[str, Any], flush: bool = True) -> OutboxMessage:
    """Record background work in the current transaction; it is dispatched after commit.

    With flush=False the row is inserted with the next flush (many rows in one statement);
    its id is read after the commit, so `message.id` is None until then.
    """
    message = OutboxMessage(task=task, payload=payload, status="pending", attempts=0)
    db.session.add(message)
    if flush:
        db.session.flush()
    _messages_of_this_transaction().append(message)
    return message


def requeue(message: OutboxMessage) -> None:
    """Make a failed row pending again; like a new one, it is dispatched after commit."""
    message.status = "pending"
    message.processed_at = None
    message.next_attempt_at = None
    _messages_of_this_transaction().append(message)


def _messages_of_this_transaction() -> list[OutboxMessage]:
    """The rows queued in the current transaction, dispatched together after its commit."""
    session = db.session()
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []

        def committed() -> None:
            session.info.pop(_PENDING, None)
            identities = [(inspect(m).identity, m.task) for m in pending]
            # A row of a rolled-back savepoint has no identity: it was never committed.
            dispatch([(identity[0], task) for identity, task in identities if identity])

        on_commit(committed)
        on_rollback(lambda: session.info.pop(_PENDING, None))
    return pending


# task name -> (name of a task taking a list of ids, how many ids per message). A task with a
# batch variant is still one row per piece of work; only the hand-over is grouped.
BATCH_TASKS: dict[str, tuple[str, int]] = {}


def register_batch_task(task: str, batch_task: str, size: int) -> None:
    """Let `dispatch` hand rows of `task` over `size` at a time to `batch_task`."""
    BATCH_TASKS[task] = (batch_task, size)


def _task_messages(messages: list[tuple[int, str]]) -> list[tuple[str, list]]:
    """(task name, args) per Celery message: single rows, or ids grouped for a batch task."""
    grouped: dict[str, list[int]] = {}
    single: list[tuple[str, list]] = []
    for message_id, task in messages:
        if task in BATCH_TASKS:
            grouped.setdefault(task, []).append(message_id)
        else:
            single.append((task, [message_id]))
    for task, ids in grouped.items():
        batch_task, size = BATCH_TASKS[task]
        if len(ids) == 1:
            single.append((task, ids))
            continue
        single += [(batch_task, [ids[i : i + size]]) for i in range(0, len(ids), size)]
    return single


def dispatch(messages: list[tuple[int, str]]) -> None:
    """Hand outbox rows to Celery; a broker failure leaves them pending for the sweep."""
    if not messages:
        return
    celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        celery.loader.import_default_modules()
        for message_id, task in messages:
            try:
                celery.tasks[task].apply(args=[message_id])
            except Exception:
                log.exception("outbox message %s failed in-process", message_id)
        return
    try:
        # One connection for all of them; the first failure leaves the rest to the sweep
        # rather than making the request wait for the broker once per row.
        with celery.producer_or_acquire() as producer:
            for task, args in _task_messages(messages):
                celery.send_task(task, args=args, producer=producer)
    except Exception:
        log.exception("%d outbox message(s) not dispatched; the sweep will retry", len(messages))


def stale_messages(
    older_than: timedelta = timedelta(minutes=10), limit: int = 5000
) -> list[tuple[int, str]]:
    """Pending rows whose dispatch (or scheduled retry) is overdue by the cut-off: due again."""
    cutoff = utcnow() - older_than
    due = func.coalesce(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.task)
        .where(OutboxMessage.status == "pending", due < cutoff)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [tuple(row) for row in rows]


def record_failure(
    message_id: int, error: str, final: bool, retry_at: datetime | None = None
) -> None:
    """Note a failed attempt; a final failure marks the row failed for an admin to see.

    `retry_at` is when the next attempt is due, so the sweep leaves the row to its retry.
    """
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != "pending":
        return
    message.attempts += 1
    message.last_error = error[:2000]
    message.next_attempt_at = retry_at
    if final:
        message.status = "failed"
        message.processed_at = utcnow()
        log.error("outbox message %s failed for good: %s", message_id, error)
    db.session.flush()
