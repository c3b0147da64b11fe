"""Is background work handed to the broker only after the transaction commits?"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import redis
from sqlalchemy import text

from config import TestConfig
from grants import create_app
from grants.core.audit import AuditEvent, record
from grants.core.models import utcnow
from grants.core.outbox import OutboxMessage, queue_task, stale_messages
from grants.extensions import db
from tests.factories import OutboxMessageFactory, UserFactory

broker = redis.Redis.from_url(TestConfig.BROKER_URL)


def _queued_ids(queue: str = "mail") -> list[int]:
    """The outbox ids carried by the task messages waiting in a Redis queue."""
    messages = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
    return [json.loads(base64.b64decode(m["body"]))[0][0] for m in messages]


# These two read the "mail" queue itself, so they pause the session's shared worker
# (`own_workers`): a worker draining the queue would make the first fail and the second pass
# whatever the outbox did.


def test_rolled_back_transaction_queues_nothing(own_workers):
    message = queue_task("mail.send", {"to": ["a@example.org"], "subject": "s", "body": "b"})
    message_id = message.id
    db.session.rollback()
    assert db.session.get(OutboxMessage, message_id) is None
    assert message_id not in _queued_ids()


def test_committed_work_reaches_the_broker_after_commit(own_workers):
    message = queue_task("mail.send", {"to": ["a@example.org"], "subject": "s", "body": "b"})
    assert message.id not in _queued_ids()  # not before the commit
    db.session.commit()
    assert message.id in _queued_ids()


@pytest.mark.committed
def test_unreachable_broker_keeps_the_row_pending_for_the_sweep():
    app = create_app(TestConfig, BROKER_URL="redis://127.0.0.1:1/0")  # nothing listens there
    with app.app_context():
        message = queue_task("mail.send", {"to": ["a@example.org"], "subject": "s", "body": "b"})
        db.session.commit()  # must not raise: the request succeeds without the broker
        assert db.session.get(OutboxMessage, message.id).status == "pending"
        db.session.remove()


def test_sweep_finds_only_old_pending_rows():
    old = OutboxMessageFactory(created_at=utcnow() - timedelta(hours=1))
    OutboxMessageFactory()  # fresh: its dispatch may still be on the way
    OutboxMessageFactory(created_at=utcnow() - timedelta(hours=1), status="done")
    assert stale_messages() == [(old.id, "mail.send")]


def test_audit_rows_cannot_be_changed_or_deleted():
    user = UserFactory()
    entry = record("test.happened", user, actor=user, note="x")
    db.session.flush()
    with pytest.raises(Exception, match="append-only"), db.session.begin_nested():
        db.session.execute(
            text("UPDATE audit_event SET action = 'forged' WHERE id = :id"), {"id": entry.id}
        )
    with pytest.raises(Exception, match="append-only"), db.session.begin_nested():
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": entry.id})
    assert db.session.get(AuditEvent, entry.id).action == "test.happened"
