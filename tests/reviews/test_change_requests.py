"""Can staff ask for changes by a deadline, and see afterwards what the applicant changed?"""

from __future__ import annotations

import re
from decimal import Decimal
from types import SimpleNamespace

from grants.applications import operations as applications
from grants.core.audit import AuditEvent
from grants.extensions import db
from grants.notifications.mail import render_mail
from grants.reviews import operations as reviews
from grants.reviews.diff import Change, diff_snapshots
from grants.reviews.models import ChangeRequest
from tests.factories import UserFactory
from tests.reviews.test_review_checks import (
    STALE,
    in_days,
    page_of,
    post,
    sign_in,
    submitted_application,
)

OLD = {
    "reference": "KOMMAN-2026-0001",
    "organisation": {"name": "Verein A e.V.", "iban": "DE89370400440532013000", "bic": ""},
    "project": {"title": "Sprachcafé", "start_date": "2026-03-01", "volunteers": 4},
    "cost_lines": [
        {"category": "fees", "description": "Honorar", "quantity": "20", "amount": "1000.00"},
        {"category": "material", "description": "Papier", "quantity": "1", "amount": "200.00"},
        {"category": "rent", "description": "Raummiete", "quantity": "1", "amount": "300.00"},
    ],
    "total_costs": "1500.00",
    "financing": {
        "own_funds": "120.00",
        "requested_grant": "1080.00",
        "third_party_funds": [{"source": "Stiftung", "amount": "300.00", "approved": False}],
    },
    "attachments": [{"id": 1, "kind": "statutes", "filename": "satzung.pdf"}],
    "declarations": {"not_started": True},
    "input_tax_deduction": None,
}

NEW = {
    **OLD,
    "organisation": {"name": "Verein A e.V.", "iban": "DE89370400440532013000", "bic": None},
    "project": {"title": "Sprachcafé Opladen", "start_date": "2026-04-01", "volunteers": 4},
    "cost_lines": [
        {"category": "fees", "description": "Honorar", "quantity": "16", "amount": "800.00"},
        {"category": "rent", "description": "Raummiete", "quantity": "1", "amount": "300.00"},
        {"category": "material", "description": "Flyer", "quantity": "1", "amount": "150.00"},
    ],
    "total_costs": "1250.00",
    "financing": {
        "own_funds": "120.00",
        "requested_grant": "1000.00",
        "third_party_funds": [{"source": "Stiftung", "amount": "300.00", "approved": True}],
    },
    "attachments": [
        {"id": 1, "kind": "statutes", "filename": "satzung.pdf"},
        {"id": 7, "kind": "register_extract", "filename": "vr.pdf"},
    ],
    "declarations": {"not_started": True},
    "input_tax_deduction": False,
}


def test_the_diff_names_changed_fields_and_added_and_removed_lines():
    changes = diff_snapshots(OLD, NEW)
    assert Change("project", "title", "Sprachcafé", "Sprachcafé Opladen") in changes
    assert Change("project", "start_date", "2026-03-01", "2026-04-01") in changes
    # a cost line is matched by its description, wherever it moved
    assert Change("costs", "quantity", "20", "16", item="Honorar") in changes
    assert Change("costs", "amount", "1000.00", "800.00", item="Honorar") in changes
    assert not [c for c in changes if c.item == "Raummiete"]
    # "Papier" is gone and "Flyer" is new (they do not share a position either)
    assert Change("costs", "amount", "200.00", None, "removed", "Papier") in changes
    assert Change("costs", "amount", None, "150.00", "added", "Flyer") in changes
    assert Change("costs", "total_costs", "1500.00", "1250.00") in changes
    assert Change("financing", "requested_grant", "1080.00", "1000.00") in changes
    assert Change("financing", "approved", False, True, item="Stiftung") in changes
    assert Change("attachments", "filename", None, "vr.pdf", "added", "vr.pdf") in changes
    assert Change("declarations", "input_tax_deduction", None, False) in changes
    # an empty string and a missing value are no change; unchanged fields are not listed
    assert not [c for c in changes if c.field in ("bic", "volunteers", "own_funds", "iban")]
    assert diff_snapshots(OLD, OLD) == []


def test_a_renamed_line_at_the_same_position_counts_as_changed():
    old = {"cost_lines": OLD["cost_lines"][:2]}
    renamed = {**OLD["cost_lines"][1], "description": "Papier und Stifte", "amount": "250.00"}
    new = {"cost_lines": [OLD["cost_lines"][0], renamed]}
    assert diff_snapshots(old, new) == [
        Change("costs", "description", "Papier", "Papier und Stifte", item="Papier"),
        Change("costs", "amount", "200.00", "250.00", item="Papier"),
    ]


def test_the_same_number_written_differently_is_no_change():
    old = {"cost_lines": [{"description": "Honorar", "quantity": "20", "amount": "1000"}]}
    new = {"cost_lines": [{"description": "Honorar", "quantity": "20.00", "amount": "1000.00"}]}
    assert diff_snapshots(old, new) == []


def test_lines_without_a_partner_are_added_or_removed():
    old = {"cost_lines": OLD["cost_lines"]}
    new = {"cost_lines": OLD["cost_lines"][:1]}
    changes = diff_snapshots(old, new)
    assert Change("costs", "amount", "200.00", None, "removed", "Papier") in changes
    assert Change("costs", "amount", "300.00", None, "removed", "Raummiete") in changes
    back = diff_snapshots(new, old)
    assert Change("costs", "amount", None, "300.00", "added", "Raummiete") in back
    assert all(c.value_type == "money" for c in back)
    assert Change("project", "start_date", None, "2026-03-01").value_type == "date"


def test_staff_request_changes_and_see_what_the_applicant_changed(client):
    application, applicant = submitted_application()
    staff = sign_in(client, "staff")
    reviews.start_review(application, staff)
    db.session.commit()
    deadline = in_days(14)
    response = post(
        client,
        application,
        "changes",
        {
            "seen_status": "in_review",
            "changes-message": "Bitte das Honorar aufschlüsseln und den Flyer ergänzen.",
            "changes-deadline": deadline.isoformat(),
            "changes-sections": ["costs", "financing"],
        },
    )
    assert response.status_code == 302
    assert application.status == "changes_requested"
    [change_request] = application.change_requests
    assert change_request.sections == ["costs", "financing"]
    assert change_request.deadline == deadline and change_request.requested_by_id == staff.id
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "application.request_changes")
    )
    assert event.details["to"] == "changes_requested"
    assert event.details["comment"].startswith("Bitte das Honorar")
    page = page_of(client, application)
    assert "Bitte das Honorar aufschlüsseln" in page and "Not answered yet" in page
    assert "Cost plan, Financing plan" in page
    assert 'data-action="application.request_changes"' in page

    # the applicant may change the named sections only, then submits again
    assert applications.editable_sections(application) == {"costs", "financing"}
    applications.add_cost_line(
        application, "material", "Flyer", Decimal("1"), Decimal("90.00"), applicant
    )
    applications.save_financing(
        application,
        {
            "own_funds": Decimal("129.00"),
            "participant_fees": Decimal("0"),
            "requested_grant": Decimal("1161.00"),
            "third_party_funds": [],
        },
        applicant,
    )
    applications.submit_application(application, applicant)
    db.session.commit()

    page = page_of(client, application)
    assert change_request.answered_at is not None and "Answered on" in page
    assert "Version 2 of" in page and "Changes against version 1:" in page
    assert "Cost line added: Flyer (€90.00)" in page
    assert "Requested grant: changed from €1,080.00 to €1,161.00" in page
    assert 'data-action="application.submit"' in page


def test_a_change_request_needs_a_message_and_a_future_deadline(client):
    application, _applicant = submitted_application()
    sign_in(client, "staff")
    missing = post(
        client,
        application,
        "changes",
        {
            "seen_status": "submitted",
            "changes-message": "",
            "changes-deadline": in_days(10).isoformat(),
            "changes-sections": ["attachments"],
        },
    )
    page = missing.get_data(as_text=True)
    assert missing.status_code == 400 and 'href="#changes-message"' in page
    assert f'value="{in_days(10).isoformat()}"' in page
    assert re.search(r'<input checked[^>]*id="changes-sections-4"', page)  # still ticked

    past = post(
        client,
        application,
        "changes",
        {
            "seen_status": "submitted",
            "changes-message": "Satzung fehlt",
            "changes-deadline": in_days(0).isoformat(),
        },
    )
    page = past.get_data(as_text=True)
    assert past.status_code == 400 and 'id="changes-deadline-error"' in page
    assert "Satzung fehlt" in page
    assert application.status == "submitted"
    assert db.session.scalar(db.select(db.func.count()).select_from(ChangeRequest)) == 0


def test_a_change_request_from_a_stale_page_writes_nothing(client):
    application, _applicant = submitted_application()
    sign_in(client, "staff")
    reviews.start_review(application, UserFactory(roles=["staff"]))
    db.session.commit()
    events = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
    response = post(
        client,
        application,
        "changes",
        {
            "seen_status": "submitted",
            "changes-message": "Bitte ergänzen",
            "changes-deadline": in_days(7).isoformat(),
        },
    )
    assert response.status_code == 302
    assert STALE in client.get(response.headers["Location"]).get_data(as_text=True)
    assert application.status == "in_review"
    assert db.session.scalar(db.select(db.func.count()).select_from(ChangeRequest)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == events


def test_the_change_request_mail_names_message_deadline_and_sections(client):
    application, applicant = submitted_application()
    staff = UserFactory(roles=["staff"], full_name="Petra Prüfer")
    reviews.request_changes(
        application, "Bitte den Registerauszug nachreichen.", ["attachments"], in_days(9), staff
    )
    db.session.flush()
    for locale in ("de", "en"):
        subject, body = render_mail(
            "reviews/changes_requested",
            locale,
            application=application,
            user=SimpleNamespace(full_name="Ada Antrag"),
            actor=staff,
            link="https://example.org/applications/1",
        )
        assert application.reference in subject
        assert "Bitte den Registerauszug nachreichen." in body
        assert "Petra Prüfer" in body and "https://example.org/applications/1" in body
    subject, body = render_mail(
        "reviews/changes_requested",
        "en",
        application=application,
        user=applicant,
        actor=staff,
        link="x",
    )
    assert "Attachments" in body
    assert in_days(9).strftime("%Y") in subject
