"""Does the hand-over to Celery group mails, and does the sweep leave scheduled retries alone?"""

from __future__ import annotations

from datetime import timedelta

from grants.core.models import utcnow
from grants.core.outbox import _task_messages, stale_messages
from tests.factories import OutboxMessageFactory


def test_mails_of_one_transaction_travel_25_ids_to_a_message_other_tasks_alone():
    rows = [(n, "mail.send") for n in range(1, 31)] + [(99, "letters.render")]
    messages = _task_messages(rows)
    assert ("letters.render", [99]) in messages
    batches = [args[0] for task, args in messages if task == "mail.send_batch"]
    assert batches == [list(range(1, 26)), list(range(26, 31))]


def test_a_single_mail_keeps_the_single_task():
    assert _task_messages([(7, "mail.send")]) == [("mail.send", [7])]


def test_the_sweep_leaves_a_row_whose_retry_is_not_due_yet():
    hour_ago = utcnow() - timedelta(hours=1)
    waiting = OutboxMessageFactory(created_at=hour_ago, next_attempt_at=utcnow() + timedelta(1))
    overdue = OutboxMessageFactory(
        created_at=hour_ago, next_attempt_at=utcnow() - timedelta(minutes=30)
    )
    lost = OutboxMessageFactory(created_at=hour_ago)
    found = {message_id for message_id, _task in stale_messages()}
    assert found == {overdue.id, lost.id}
    assert waiting.id not in found
