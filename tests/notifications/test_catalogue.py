"""Is every event catalogued: recipients, text and HTML mails in both languages, a message?"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale

from grants.applications.workflow import TRANSITIONS
from grants.core.models import utcnow
from grants.extensions import db
from grants.notifications.events import EVENTS, _application_params, render_message
from grants.notifications.mail import render_mail_parts
from grants.notifications.models import Notification
from grants.reviews import operations as reviews
from tests.conftest import ROOT
from tests.factories import UserFactory
from tests.reviews.test_decisions import in_review, propose

WORKFLOW_EVENTS = sorted(set().union(*(t.all_notifications for t in TRANSITIONS.values())))
APPLICATION_EVENTS = sorted(name for name, event in EVENTS.items() if event.recipients)
ACCOUNT_EVENTS = sorted(name for name, event in EVENTS.items() if not event.recipients)


def test_every_event_of_the_workflow_table_is_in_the_catalogue():
    missing = [name for name in WORKFLOW_EVENTS if name not in EVENTS]
    assert missing == []


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_has_a_text_and_an_html_template(name):
    template = EVENTS[name].template
    for suffix in ("txt", "html"):
        assert Path(ROOT, "templates", "emails", f"{template}.{suffix}").is_file(), suffix


@pytest.mark.parametrize("name", WORKFLOW_EVENTS)
def test_workflow_events_name_recipients_and_an_in_app_message(name):
    event = EVENTS[name]
    assert event.recipients is not None
    assert event.message is not None


def test_the_catalogue_has_the_events_the_issue_names():
    required = {
        "submission_receipt",
        "submission_staff",
        "changes_requested",
        "resubmission_receipt",
        "resubmission_staff",
        "proposal_waiting",
        "proposal_returned",
        "letter_issued",
        "payout_recorded",
        "invitation",
        "account_confirmation",
        "password_reset",
    }
    assert required <= set(EVENTS)
    assert {n for n, e in EVENTS.items() if e.required} >= {
        "letter_issued",
        "account_confirmation",
        "password_reset",
    }


@pytest.fixture
def scene():
    """An application with a change request and a proposed-then-returned decision."""
    staff = UserFactory(roles=["staff"], full_name="Sachbearbeiterin Sabine")
    approver = UserFactory(roles=["approver"], full_name="Leiterin Lea")
    application = in_review(staff)
    reviews.request_changes(
        application, "Bitte Kosten erläutern.", ["costs"], date.today() + timedelta(days=10), staff
    )
    change_request = application.change_requests[-1]
    application.status = "in_review"  # straight back, to attach a decision too
    decision = propose(application, staff)
    decision.return_comment = "Bitte Begründung ergänzen."
    db.session.flush()
    user = UserFactory(full_name="Ada Muster")
    return {
        "user": user,
        "actor": approver,
        "application": application,
        "link": "https://example.org/x",
        "change_request": change_request,
        "decision": decision,
        "closes_at": utcnow() + timedelta(days=3),
        "days": 7,
        "days_left": 3,
        "today": date.today(),
        "new_applications": [application],
        "overdue_changes": [change_request],
        "waiting_decisions": [decision],
        "organisation": application.organisation,
        "inviter": approver,
        "accept_url": "https://example.org/accept",
        "confirm_url": "https://example.org/confirm",
        "reset_url": "https://example.org/reset",
        "login_url": "https://example.org/login",
        "max_age_days": 3,
        "max_age_hours": 2,
    }


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_renders_in_german_and_english_as_text_and_html(name, scene):
    rendered = {}
    for locale in ("de", "en"):
        subject, body, html = render_mail_parts(EVENTS[name].template, locale, **scene)
        assert subject and "\n" not in subject
        assert body.strip()
        assert html and f'<html lang="{locale}">' in html
        assert subject in html  # the title
        rendered[locale] = (subject, body)
    assert rendered["de"][0] != rendered["en"][0], "the German subject is not translated"
    german, english = rendered["de"][1], rendered["en"][1]
    assert german.startswith("Guten Tag") or german.startswith("Hallo")
    assert english.startswith("Hello")
    # After "Hello Ada Muster," an English mail goes on with a capital letter.
    second = english.split("\n\n", 1)[1].lstrip()
    assert second[:1].isupper() or second[:1].isdigit() or second[:1] in "%-", second[:40]


@pytest.mark.parametrize("name", APPLICATION_EVENTS)
def test_every_in_app_message_renders_in_both_languages(name, app, scene):
    event = EVENTS[name]
    assert event.message is not None, "every event about an application has an in-app message"
    notification = Notification(
        event=name,
        params={
            "reference": "IKOE-2026-0001",
            "title": "Sprachcafé",
            "organisation": "Verein e.V.",
            "deadline": "2026-12-01",
            "closes": "2026-12-02",
            "since": "2026-11-20",
        },
    )
    texts = {}
    for locale in ("de", "en"):
        with app.test_request_context(), force_locale(locale):
            texts[locale] = render_message(notification)
    assert "IKOE-2026-0001" in texts["en"] or "Sprachcafé" in texts["en"]
    assert "%(" not in texts["de"] and "%(" not in texts["en"]
    assert texts["de"] != texts["en"]


def test_html_mails_escape_what_applicants_typed(scene):
    scene["application"].title = "<script>alert(1)</script>"
    _subject, _body, html = render_mail_parts("applications/submitted", "en", **scene)
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("name", WORKFLOW_EVENTS)
def test_workflow_event_messages_need_only_what_notify_provides(name, scene):
    event = EVENTS[name]
    params = _application_params(scene["application"])
    if event.params is not None:
        params |= event.params(scene["application"])
    str(event.message) % params  # a missing value raises KeyError
