"""Do e-mails travel outbox → Redis → Celery worker → SMTP, once, with links that work?"""

from __future__ import annotations

import time

import pytest

from grants.extensions import db
from tests.factories import OutboxMessageFactory
from tests.helpers import link_in, post_form, wait_for_status
from tests.mailserver import body_of

pytestmark = pytest.mark.worker

PASSWORD = "Sicheres-Passwort-99"


def test_registration_mail_arrives_with_a_working_confirmation_link(client, celery_worker, mailbox):
    response = post_form(
        client,
        "/register",
        {
            "full_name": "Mara Mail",
            "email": "mara@example.org",
            "password": PASSWORD,
            "password_repeat": PASSWORD,
            "privacy": "y",
        },
    )
    assert response.status_code == 302
    [mail] = mailbox.wait_for(1, to="mara@example.org")
    assert mail["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    confirm_path = link_in(body_of(mail))
    assert client.get(confirm_path).status_code == 302
    login = post_form(client, "/login", {"email": "mara@example.org", "password": PASSWORD})
    assert login.headers["Location"] == "/start"


def test_delivering_the_same_row_twice_sends_one_mail(app, celery_worker, mailbox):
    message = OutboxMessageFactory(
        payload={"to": ["einmal@example.org"], "subject": "Einmal", "body": "Nur einmal.\n"}
    )
    db.session.commit()
    celery = app.extensions["celery"]
    celery.send_task("mail.send", args=[message.id])
    celery.send_task("mail.send", args=[message.id])
    wait_for_status(message.id, "done")
    time.sleep(1)  # give a duplicate the chance to arrive
    assert len(mailbox.wait_for(1, to="einmal@example.org")) == 1


def test_a_refused_mail_is_retried_and_delivered_once(app, celery_worker, mailbox):
    mailbox.refuse_next = 1
    message = OutboxMessageFactory(
        payload={
            "to": ["spaeter@example.org"],
            "subject": "Später",
            "body": "Beim zweiten Versuch.\n",
        }
    )
    db.session.commit()
    app.extensions["celery"].send_task("mail.send", args=[message.id])
    done = wait_for_status(message.id, "done", timeout=60)
    assert done.attempts == 2 and done.last_error is None
    assert len(mailbox.wait_for(1, to="spaeter@example.org")) == 1
