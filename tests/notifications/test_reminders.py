"""Are reminders found by date, sent to the right people, and sent once even if beat runs twice?"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from grants.applications import operations as applications
from grants.core.models import to_local, utcnow
from grants.extensions import db
from grants.notifications.models import Notification, ReminderSent
from grants.notifications.reminders import (
    claim,
    remind_call_closing,
    remind_change_requests,
    remind_sign_offs,
    run_all,
    send_staff_digest,
    working_days_between,
)
from grants.reviews import operations as reviews
from tests.factories import CallFactory, MembershipFactory, UserFactory
from tests.helpers import queued_mails
from tests.reviews.test_decisions import in_review, propose


def draft_closing_in(delta: timedelta):
    """A draft of an organisation with one member, in a call that closes after `delta`."""
    applicant = UserFactory()
    organisation = MembershipFactory(user=applicant).organisation
    call = CallFactory(closes_at=utcnow() + delta)
    application = applications.create_draft(call, organisation, applicant)
    db.session.flush()
    return application, applicant


def test_working_days_skip_the_weekend():
    friday = date(2026, 11, 20)
    assert working_days_between(friday, friday + timedelta(days=3)) == 1  # Monday
    assert working_days_between(friday, friday + timedelta(days=6)) == 4  # Mon–Thu
    assert working_days_between(friday, friday) == 0


def test_a_key_is_claimed_once():
    assert claim("test:once") is True
    assert claim("test:once") is False
    assert db.session.get(ReminderSent, "test:once") is not None


def test_drafts_are_reminded_seven_days_and_one_day_before_the_call_closes():
    week, applicant = draft_closing_in(timedelta(days=5))
    day, other = draft_closing_in(timedelta(hours=20))
    later, third = draft_closing_in(timedelta(days=20))
    now = utcnow()
    assert remind_call_closing(now) == 2
    assert remind_call_closing(now) == 0  # the same occasion again: nothing
    assert len(queued_mails(applicant.email)) == 1
    assert len(queued_mails(other.email)) == 1
    assert queued_mails(third.email) == []
    # Four days later the first draft's call closes within a day: a second, different reminder.
    assert remind_call_closing(now + timedelta(days=4, hours=6)) == 1
    assert len(queued_mails(applicant.email)) == 2
    assert db.session.get(ReminderSent, f"call_closing:7d:{week.id}")
    assert db.session.get(ReminderSent, f"call_closing:1d:{week.id}")
    assert db.session.get(ReminderSent, f"call_closing:1d:{day.id}")


def test_change_requests_are_reminded_when_due_and_staff_hear_when_overdue():
    staff = UserFactory(roles=["staff"])
    UserFactory(roles=["staff"])  # another case worker, not in charge
    application = in_review(staff)
    applicant = application.created_by
    deadline = to_local(utcnow()).date() + timedelta(days=10)
    reviews.request_changes(application, "Bitte ergänzen.", ["costs"], deadline, staff)
    db.session.flush()
    before = len(queued_mails(applicant.email))

    assert remind_change_requests(utcnow()) == 0  # ten days left
    assert remind_change_requests(utcnow() + timedelta(days=7)) == 1  # three days left
    assert remind_change_requests(utcnow() + timedelta(days=8)) == 0  # already reminded
    mails = queued_mails(applicant.email)
    assert len(mails) == before + 1 and mails[-1]["event"] == "change_request_due_reminder"

    assert remind_change_requests(utcnow() + timedelta(days=11)) == 2  # applicant and staff
    assert remind_change_requests(utcnow() + timedelta(days=12)) == 0
    assert queued_mails(applicant.email)[-1]["event"] == "change_request_overdue_reminder"
    assert queued_mails(staff.email)[-1]["event"] == "change_request_overdue_staff"


def test_a_proposal_waiting_more_than_three_working_days_reminds_the_approvers():
    staff = UserFactory(roles=["staff"])
    approver = UserFactory(roles=["approver"])
    application = in_review(staff)
    decision = propose(application, staff)
    decision.proposed_at = utcnow() - timedelta(days=7)  # at least 4 working days
    db.session.flush()
    assert remind_sign_offs(utcnow()) == 1
    assert remind_sign_offs(utcnow()) == 0
    assert queued_mails(approver.email)[-1]["event"] == "sign_off_reminder"
    assert queued_mails(staff.email)[-1]["event"] != "sign_off_reminder"  # not the proposer
    message = db.session.scalars(
        db.select(Notification).where(
            Notification.user_id == approver.id, Notification.event == "sign_off_reminder"
        )
    ).one()
    assert message.link == f"/review/{application.id}"


def test_the_staff_digest_lists_new_applications_once_a_day():
    staff = UserFactory(roles=["staff"], locale="en")
    application = in_review(staff)
    application.status = "submitted"  # new and not yet taken into review
    db.session.flush()
    now = utcnow()
    assert send_staff_digest(now) >= 1
    assert send_staff_digest(now) == 0
    [digest] = [m for m in queued_mails(staff.email) if m["event"] == "staff_digest"]
    assert application.reference in digest["body"]
    assert "1 new application since yesterday" in digest["body"]


def test_an_email_switched_off_still_leaves_the_in_app_message():
    application, applicant = draft_closing_in(timedelta(days=3))
    from grants.notifications.operations import save_email_preferences

    save_email_preferences(applicant, wanted=set())
    assert remind_call_closing(utcnow()) == 1
    assert queued_mails(applicant.email) == []
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(Notification)
            .where(Notification.user_id == applicant.id)
        )
        == 1
    )


@pytest.mark.worker
def test_running_the_reminder_job_twice_sends_each_reminder_once(app, celery_worker, mailbox):
    _week, first = draft_closing_in(timedelta(days=5))
    _day, second = draft_closing_in(timedelta(hours=10))
    db.session.commit()
    celery = app.extensions["celery"]
    celery.send_task("reminders.call_closing")
    celery.send_task("reminders.call_closing")  # beat ran twice
    mailbox.wait_for(1, to=first.email)
    mailbox.wait_for(1, to=second.email)
    assert run_all() == 0  # and a third time, in this process
    db.session.commit()
    time.sleep(2)  # a duplicate would have arrived by now
    assert len([m for m in mailbox.messages if first.email in m["To"]]) == 1
    assert len([m for m in mailbox.messages if second.email in m["To"]]) == 1
    keys = db.session.scalars(db.select(ReminderSent.key)).all()
    assert len(keys) == 2
