"""Do people find their notifications, read them, choose their e-mails – and admins the outbox?"""

from __future__ import annotations

import re
from datetime import timedelta

from grants.applications import operations as applications
from grants.core.models import to_local, utcnow
from grants.core.outbox import OutboxMessage
from grants.extensions import db
from grants.notifications.models import EmailOptOut, Notification
from grants.notifications.operations import PAGE_SIZE
from grants.reviews import operations as reviews
from tests.factories import OutboxMessageFactory, UserFactory
from tests.helpers import log_in, post_form, queued_mails
from tests.reviews.test_review_checks import submitted_application


def request_changes(application, staff=None):
    staff = staff or UserFactory(roles=["staff"])
    reviews.start_review(application, staff)
    deadline = to_local(utcnow()).date() + timedelta(days=14)
    reviews.request_changes(application, "Bitte ergänzen.", ["costs"], deadline, staff)
    db.session.flush()
    return staff


def test_the_applicant_sees_an_unread_notification_after_a_change_request(client):
    application, applicant = submitted_application()  # the receipt is the first message
    request_changes(application)
    log_in(client, applicant)  # an English-speaking applicant

    start = client.get("/start").get_data(as_text=True)
    assert 'class="notification-count" aria-hidden="true">2<' in start
    assert '<span class="kern-sr-only"> (2 unread)</span>' in start  # announced, not only shown

    page = client.get("/notifications").get_data(as_text=True)
    assert f"Changes are needed to application {application.reference} by" in page
    assert "You have 2 unread notifications." in page
    notification = db.session.scalar(
        db.select(Notification).where(
            Notification.user_id == applicant.id, Notification.event == "changes_requested"
        )
    )
    # Opening it marks it read and leads to the application.
    response = client.get(f"/notifications/{notification.id}")
    assert response.headers["Location"] == f"/applications/{application.id}"
    assert notification.read_at is not None
    start = client.get("/start").get_data(as_text=True)
    assert '<span class="kern-sr-only"> (1 unread)</span>' in start


def test_the_centre_counts_unread_notifications_beyond_the_page(client):
    application, applicant = submitted_application()
    request_changes(application)
    shown = db.session.scalar(
        db.select(Notification).where(Notification.user_id == applicant.id).limit(1)
    )
    for _ in range(PAGE_SIZE + 3):  # 2 + 53 unread, 50 listed
        db.session.add(
            Notification(
                user_id=applicant.id,
                event=shown.event,
                params=shown.params,
                link=shown.link,
                application_id=application.id,
            )
        )
    db.session.flush()
    log_in(client, applicant)

    page = client.get("/notifications").get_data(as_text=True)
    assert f"You have {PAGE_SIZE + 5} unread notifications." in page
    assert page.count("notification-list__item--unread") == PAGE_SIZE


def test_staff_notifications_link_to_the_review_page(client):
    application, _applicant = submitted_application()
    staff = UserFactory(roles=["staff"])
    db.session.flush()
    applications.withdraw_application(application, application.created_by)
    [notification] = db.session.scalars(
        db.select(Notification).where(Notification.user_id == staff.id)
    ).all()
    assert notification.event == "withdrawal_staff"
    assert notification.link == f"/review/{application.id}"


def test_another_users_notification_is_not_found(client):
    application, _applicant = submitted_application()
    request_changes(application)
    stranger = UserFactory()
    log_in(client, stranger)
    notification = db.session.scalars(db.select(Notification)).first()
    assert client.get(f"/notifications/{notification.id}").status_code == 404
    response = post_form(
        client, f"/notifications/{notification.id}/read", {}, form_url="/notifications"
    )
    assert response.status_code == 404
    assert notification.read_at is None


def test_mark_one_and_all_as_read(client):
    application, applicant = submitted_application()
    request_changes(application)
    applications.withdraw_application(application, applicant)  # no message to the applicant
    staff_message = db.session.scalars(db.select(Notification)).first()
    mine = db.session.scalars(
        db.select(Notification).where(Notification.user_id == applicant.id)
    ).all()
    log_in(client, applicant)
    post_form(client, f"/notifications/{mine[0].id}/read", {}, form_url="/notifications")
    assert mine[0].read_at is not None
    response = post_form(client, "/notifications/read-all", {}, form_url="/notifications")
    assert response.status_code == 302
    assert all(n.read_at is not None for n in mine)
    if staff_message.user_id != applicant.id:
        assert staff_message.read_at is None  # only the user's own


def test_an_applicant_switches_off_the_receipt_but_still_gets_change_requests(client):
    application, applicant = submitted_application()
    log_in(client, applicant)
    page = client.get("/notifications/settings").get_data(as_text=True)
    checkbox = re.search(r"<input[^>]*value=\"submission_receipt\"[^>]*>", page).group(0)
    assert "checked" in checkbox
    assert "<li>Change request</li>" in page  # listed among the e-mails always sent
    wanted = [
        "resubmission_receipt",
        "payout_recorded",
        "call_closing_reminder",
        "change_request_due_reminder",
        "change_request_overdue_reminder",
    ]
    response = post_form(client, "/notifications/settings", {"events": wanted})
    assert response.status_code == 302
    assert db.session.scalars(db.select(EmailOptOut.event)).all() == ["submission_receipt"]

    before = len(queued_mails(applicant.email))
    request_changes(application)  # required: sent anyway
    assert queued_mails(applicant.email)[-1]["event"] == "changes_requested"
    assert len(queued_mails(applicant.email)) == before + 1


def test_a_switched_off_event_sends_no_mail_but_keeps_the_message(client):
    application, applicant = submitted_application()
    staff = UserFactory(roles=["staff"])
    db.session.add(EmailOptOut(user_id=staff.id, event="withdrawal_staff"))
    db.session.flush()
    applications.withdraw_application(application, applicant)
    assert queued_mails(staff.email) == []
    assert db.session.scalar(
        db.select(Notification).where(Notification.user_id == staff.id)
    ).event == ("withdrawal_staff")


def test_required_events_cannot_be_switched_off(client):
    _application, applicant = submitted_application()
    log_in(client, applicant)
    response = post_form(client, "/notifications/settings", {"events": ["changes_requested"]})
    assert response.status_code == 200  # not a choice on the form
    assert db.session.scalars(db.select(EmailOptOut)).all() == []


def test_staff_cannot_see_the_outbox(client):
    log_in(client, UserFactory(roles=["staff"]))
    assert client.get("/admin/outbox").status_code == 403


def test_the_outbox_page_shows_pending_failed_and_recent_rows(client):
    OutboxMessageFactory(created_at=utcnow() - timedelta(minutes=42))
    OutboxMessageFactory(status="failed", last_error="SMTPDataError: 550 nope", attempts=1)
    OutboxMessageFactory(
        status="done",
        processed_at=utcnow(),
        payload={"to": ["ok@example.org"], "subject": "Angekommen", "body": "x"},
    )
    log_in(client, UserFactory(roles=["admin"]))
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "550 nope" in page and "Angekommen" in page
    assert "/retry" in page
    assert "42 minutes" in page or "42 Minuten" in page  # the oldest pending row's age


def test_only_a_failed_row_can_be_sent_again(client):
    message = OutboxMessageFactory(status="done", processed_at=utcnow())
    log_in(client, UserFactory(roles=["admin"]))
    response = post_form(client, f"/admin/outbox/{message.id}/retry", {}, form_url="/admin/outbox")
    assert response.status_code == 302
    assert db.session.get(OutboxMessage, message.id).status == "done"
    assert client.post("/admin/outbox/999999/retry").status_code in (400, 404)
