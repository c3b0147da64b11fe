"""Is every mail delivered once: after a rollback never, after a crash, refusals and failures once?

Real Redis, real `celery worker` processes and a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import time

import pytest

from grants.core.outbox import OutboxMessage
from grants.extensions import db
from grants.notifications.mail import queue_mail
from tests.conftest import Worker
from tests.factories import UserFactory
from tests.helpers import log_in, post_form, wait_for_status
from tests.mailserver import body_of, html_of

pytestmark = pytest.mark.worker


def queue_confirmation(to: str) -> int:
    """Queue a real account mail (text and HTML) to `to` and commit; returns the row id."""
    user = UserFactory(email=to, full_name="Mia Mail", locale="en")
    message = queue_mail(
        to,
        "auth/confirm",
        "en",
        user=user,
        confirm_url="https://example.org/confirm/token",
        max_age_days=3,
    )
    db.session.commit()
    return message.id


def test_a_rolled_back_transaction_sends_nothing(celery_worker, mailbox):
    user = UserFactory(email="zurueck@example.org")
    queue_mail(user.email, "auth/confirm", "de", user=user, confirm_url="https://x", max_age_days=3)
    db.session.rollback()
    marker = queue_confirmation("danach@example.org")  # committed after the rollback
    wait_for_status(marker, "done")
    mailbox.wait_for(1, to="danach@example.org")
    time.sleep(1)  # a mail of the rolled-back transaction would have come before the marker
    assert [m["To"] for m in mailbox.messages] == ["danach@example.org"]
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 1


def test_mails_are_multipart_with_text_and_html(celery_worker, mailbox):
    message_id = queue_confirmation("beides@example.org")
    wait_for_status(message_id, "done")
    [mail] = mailbox.wait_for(1, to="beides@example.org")
    assert mail.get_content_type() == "multipart/alternative"
    assert "https://example.org/confirm/token" in body_of(mail)
    html = html_of(mail)
    assert html and '<html lang="en">' in html
    assert 'href="https://example.org/confirm/token"' in html


def test_smtp_refusing_three_times_delivers_once_after_backoff(celery_worker, mailbox):
    mailbox.refuse_next = 3
    message_id = queue_confirmation("dreimal@example.org")
    done = wait_for_status(message_id, "done", timeout=60)
    assert done.attempts == 4  # three refusals, then accepted
    time.sleep(1)
    assert len(mailbox.wait_for(1, to="dreimal@example.org")) == 1
    assert mailbox.refuse_next == 0


def test_a_permanent_failure_is_shown_to_the_admin_and_can_be_sent_again(
    client, celery_worker, mailbox
):
    mailbox.reject_next = 1
    message_id = queue_confirmation("kaputt@example.org")
    failed = wait_for_status(message_id, "failed")
    assert failed.attempts == 1 and "550" in failed.last_error
    assert mailbox.messages == []

    admin = UserFactory(roles=["admin"], locale="en")
    db.session.commit()
    log_in(client, admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert f'id="outbox-{message_id}"' in page
    assert "kaputt@example.org" in page and "Mailbox unavailable" in page

    response = post_form(client, f"/admin/outbox/{message_id}/retry", {}, form_url="/admin/outbox")
    assert response.status_code == 302
    wait_for_status(message_id, "done")
    assert len(mailbox.wait_for(1, to="kaputt@example.org")) == 1
    assert f'id="outbox-{message_id}"' not in client.get("/admin/outbox").get_data(as_text=True)


def test_a_worker_killed_mid_task_delivers_the_mail_once_after_restart(own_workers, mailbox):
    # A short visibility timeout: Redis hands the unacknowledged task out again after 2 s.
    fast_restore = {
        "GRANTS_BROKER_VISIBILITY_TIMEOUT": "2",
        "GRANTS_BROKER_RESTORE_INTERVAL": "1",
    }
    first = Worker(mailbox.port, env=fast_restore, name="test-worker-killed")
    own_workers.append(first)
    first.start()

    mailbox.hold_next = 1  # the server keeps the worker waiting for its answer to DATA
    message_id = queue_confirmation("absturz@example.org")
    assert mailbox.held.wait(30), "the worker never reached the SMTP server"
    first.kill()  # SIGKILL to the worker and its pool process, mid-task
    mailbox.release.set()
    time.sleep(0.5)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message_id).status == "pending"
    assert mailbox.messages == []

    second = Worker(mailbox.port, env=fast_restore, name="test-worker-restarted")
    own_workers.append(second)
    second.start()
    done = wait_for_status(message_id, "done", timeout=60)
    time.sleep(3)  # longer than the visibility timeout: a second copy would show now
    assert len(mailbox.wait_for(1, to="absturz@example.org")) == 1
    assert done.attempts == 1  # the killed attempt never committed


def test_the_sweep_dispatches_rows_whose_dispatch_was_lost(app, celery_worker, mailbox):
    user = UserFactory(email="verloren@example.org")
    message = OutboxMessage(
        task="mail.send",
        payload={"to": [user.email], "subject": "Verloren", "body": "Wieder da.\n"},
        status="pending",
        attempts=0,
    )
    db.session.add(message)  # no queue_task: as if the broker had been down at commit
    db.session.commit()
    message.created_at = message.created_at.replace(year=message.created_at.year - 1)
    db.session.commit()
    app.extensions["celery"].send_task("outbox.sweep")
    wait_for_status(message.id, "done")
    assert len(mailbox.wait_for(1, to="verloren@example.org")) == 1


def test_many_mails_of_one_transaction_travel_in_batches_and_arrive_once(
    app, celery_worker, mailbox
):
    mailbox.refuse_next = 2  # two of them are retried alone, after their backoff
    users = [UserFactory(email=f"viele{n}@example.org", locale="en") for n in range(30)]
    messages = [
        queue_mail(u.email, "auth/confirm", "en", user=u, confirm_url="https://x", max_age_days=3)
        for u in users
    ]
    db.session.commit()  # 30 rows: one batch of 25 and one of 5
    ids = [m.id for m in messages]
    app.extensions["celery"].send_task("mail.send_batch", args=[ids[:10]])  # a duplicate batch
    for message_id in ids:
        wait_for_status(message_id, "done", timeout=60)
    time.sleep(1)
    for user in users:
        assert len([m for m in mailbox.messages if m["To"] == user.email]) == 1, user.email
    db.session.expire_all()
    attempts = sorted(db.session.get(OutboxMessage, i).attempts for i in ids)
    assert attempts == [1] * 28 + [2, 2]
