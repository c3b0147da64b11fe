"""The real path: sign-off commits, the document worker renders, the mail worker sends."""

from __future__ import annotations

import time

import pytest

from grants.extensions import db
from grants.letters.operations import letter_path
from tests.letters.support import signed_off, wait_for_letter
from tests.letters.test_hostile_input import HOSTILE, hostile_application
from tests.mailserver import body_of
from workers.tasks import LETTER_SOFT_TIME_LIMIT

pytestmark = pytest.mark.worker


def test_sign_off_makes_the_worker_issue_the_letter_and_mail_the_applicant(celery_worker, mailbox):
    application = hostile_application()  # 200,000 characters and markup in the description
    application, decision, _approver = signed_off(
        "partial_approval", application=application, reasons_prefix=HOSTILE
    )
    member = application.organisation.memberships[0].user
    application_id, reference, email = application.id, application.reference, member.email
    started = time.monotonic()
    db.session.commit()

    letter = wait_for_letter(application_id, timeout=LETTER_SOFT_TIME_LIMIT)
    assert time.monotonic() - started < LETTER_SOFT_TIME_LIMIT  # the time limit holds
    assert letter.decision_id == decision.id and letter.version == 1
    assert letter_path(letter).read_bytes()[:5] == b"%PDF-"
    mails = mailbox.wait_for(2, timeout=30, to=email)  # the receipt and the letter's notice
    letter_mails = [m for m in mails if m["Subject"] == f"Bescheid zum Antrag {reference}"]
    assert len(letter_mails) == 1, [m["Subject"] for m in mails]
    assert f"/applications/{application_id}" in body_of(letter_mails[0])
    assert "documents" in celery_worker.log_path.read_text()
