"""Can staff read a submitted application and record the formal, content and arithmetic checks –
and can nobody else change them?"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Flask

from grants.applications import operations as applications
from grants.applications.models import Application
from grants.auth.models import User
from grants.core.audit import AuditEvent
from grants.core.models import utcnow
from grants.extensions import db
from grants.reviews import operations as reviews
from grants.reviews.models import Assessment, CostLineReview, FormalCheck, Note
from tests.applications.test_application_flow import complete_application
from tests.factories import CallFactory, MembershipFactory, UserFactory
from tests.helpers import log_in, post_form

STALE = "This application was changed meanwhile. Please check it again."


def submitted_application() -> tuple[Application, User]:
    """A complete application submitted by its applicant: fees 1,000 €, material 200 €,
    own funds 120 €, requested grant 1,080 € (90 % share financing)."""
    applicant = UserFactory(locale="en")
    organisation = MembershipFactory(user=applicant).organisation
    application = applications.create_draft(CallFactory(), organisation, applicant)
    complete_application(application, applicant)
    applications.submit_application(application, applicant)
    db.session.flush()
    return application, applicant


def sign_in(client, role: str) -> User:
    """Sign a new user with this role in; English pages keep the assertions readable."""
    return log_in(client, UserFactory(roles=[role], locale="en"))


def page_of(client, application) -> str:
    response = client.get(f"/review/{application.id}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def post(client, application, path: str, data: dict, **kwargs):
    """POST a form of the application page with the page's CSRF token."""
    return post_form(
        client,
        f"/review/{application.id}/{path}",
        data,
        form_url=f"/review/{application.id}",
        **kwargs,
    )


def arithmetic_data(application, values: dict[int, tuple[str, str]]) -> dict:
    """Form data for the arithmetic check: {position: (admitted, reason)}, others unchanged."""
    data = {}
    for position, line in enumerate(application.cost_lines):
        admitted, reason = values.get(position, (f"{line.amount:.2f}", ""))
        data[f"arithmetic-admitted_{line.id}"] = admitted
        data[f"arithmetic-reason_{line.id}"] = reason
    return data


ALL_SCORES = {
    "assessment-score_need": "4",
    "assessment-score_target_group": "5",
    "assessment-score_volunteering": "3",
    "assessment-score_sustainability": "2",
    "assessment-score_cost_ratio": "4",
}


def test_staff_see_every_section_attachments_and_history_of_a_submitted_application(client):
    application, applicant = submitted_application()
    sign_in(client, "staff")
    page = page_of(client, application)
    assert application.reference in page and application.organisation.name in page
    assert "Sprachcafé Opladen" in page and "Bürgerhaus Opladen" in page
    assert "Honorar Sprachtrainerin" in page and "1,080.00" in page
    attachment = application.attachments[0]
    assert f'href="/applications/{application.id}/attachments/{attachment.id}"' in page
    assert 'id="staff-status">Submitted<' in page
    assert "Not assigned" in page
    assert f"/applications/{application.id}/versions/1.pdf" in page
    assert 'data-action="application.submit"' in page
    assert re.search(r"from “Draft” to “Submitted”", page)


def test_a_reviewer_starts_the_review_and_records_the_three_checks(client):
    application, _applicant = submitted_application()
    staff = sign_in(client, "staff")
    page = page_of(client, application)
    assert f'action="/review/{application.id}/start"' in page

    response = post(client, application, "start", {"seen_status": "submitted"})
    assert response.status_code == 302
    assert application.status == "in_review" and application.assigned_to_id == staff.id
    page = page_of(client, application)
    assert 'id="staff-status">In review<' in page
    assert f'action="/review/{application.id}/start"' not in page
    assert 'data-action="application.start_review"' in page

    response = post(
        client,
        application,
        "formal-check",
        {
            "formal-items": ["complete", "eligible_applicant", "in_time"],
            "formal-note": "Satzung liegt vor, Registerauszug fehlt.",
        },
    )
    assert response.status_code == 302
    check = db.session.scalar(
        db.select(FormalCheck).where(FormalCheck.application_id == application.id)
    )
    assert check.items == {
        "complete": True,
        "eligible_applicant": True,
        "in_time": True,
        "attachments_present": False,
    }
    assert (
        check.note == "Satzung liegt vor, Registerauszug fehlt." and check.checked_by_id == staff.id
    )

    response = post(
        client,
        application,
        "assessment",
        {**ALL_SCORES, "assessment-recommendation": "approve_partly", "assessment-comment": "Gut."},
    )
    assert response.status_code == 302
    assessment = db.session.scalar(
        db.select(Assessment).where(Assessment.application_id == application.id)
    )
    assert assessment.scores == {
        "need": 4,
        "target_group": 5,
        "volunteering": 3,
        "sustainability": 2,
        "cost_ratio": 4,
    }
    assert assessment.recommendation == "approve_partly"

    fees, material = application.cost_lines
    response = post(
        client,
        application,
        "arithmetic",
        arithmetic_data(application, {1: ("100.00", "Nur Verbrauchsmaterial ist förderfähig")}),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert fees.review.admitted_amount == Decimal("1000.00") and fees.review.reason is None
    assert material.review.admitted_amount == Decimal("100.00")
    assert material.review.reason == "Nur Verbrauchsmaterial ist förderfähig"
    # 1,100 € admitted: 90 % = 990 €, but other funds of 120 € leave a gap of 980 €
    assert reviews.recompute_grant(application).calculation.grant == Decimal("980.00")

    page = page_of(client, application)
    assert '<strong id="recomputed-grant">€980.00</strong>' in page
    assert "Limited to the costs not covered by other funds" in page
    assert 'value="100.00"' in page  # the admitted amount is pre-filled from the review
    assert "Nur Verbrauchsmaterial ist förderfähig" in page
    assert 'value="complete" checked' in page or re.search(r'checked[^>]*value="complete"', page)
    actions = [
        e.action
        for e in db.session.scalars(
            db.select(AuditEvent).where(
                AuditEvent.object_type == "application", AuditEvent.object_id == application.id
            )
        )
    ]
    assert {"review.formal_check", "review.assessment", "review.cost_line"} <= set(actions)


def test_a_cut_without_reason_saves_no_line_and_keeps_the_typed_values(client):
    application, _applicant = submitted_application()
    staff = sign_in(client, "staff")
    reviews.start_review(application, staff)
    db.session.commit()
    fees, material = application.cost_lines
    response = post(
        client,
        application,
        "arithmetic",
        arithmetic_data(application, {0: ("900.00", "Stundensatz zu hoch"), 1: ("150.00", "")}),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="arithmetic-reason_{material.id}-error"' in page
    assert f'id="arithmetic-reason_{fees.id}-error"' not in page
    assert f'href="#arithmetic-reason_{material.id}"' in page  # the error summary links there
    assert 'value="900.00"' in page and 'value="150.00"' in page
    assert 'value="Stundensatz zu hoch"' in page
    assert db.session.scalar(db.select(db.func.count()).select_from(CostLineReview)) == 0


def test_admitting_more_than_requested_or_no_number_is_refused_next_to_the_line(client):
    application, _applicant = submitted_application()
    staff = sign_in(client, "staff")
    reviews.start_review(application, staff)
    db.session.commit()
    fees, material = application.cost_lines
    too_much = post(
        client, application, "arithmetic", arithmetic_data(application, {1: ("250", "")})
    )
    assert too_much.status_code == 400
    assert f'id="arithmetic-admitted_{material.id}-error"' in too_much.get_data(as_text=True)
    garbled = post(
        client, application, "arithmetic", arithmetic_data(application, {0: ("viel", "")})
    )
    assert garbled.status_code == 400
    assert f'id="arithmetic-admitted_{fees.id}-error"' in garbled.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(CostLineReview)) == 0


def test_an_incomplete_assessment_keeps_the_input_and_saves_nothing(client):
    application, _applicant = submitted_application()
    sign_in(client, "staff")
    data = {**ALL_SCORES, "assessment-comment": "Noch offen: Zielgruppe"}
    del data["assessment-score_sustainability"]
    response = post(client, application, "assessment", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="#assessment-score_sustainability"' in page
    assert 'href="#assessment-recommendation"' in page
    assert "Noch offen: Zielgruppe" in page
    assert re.search(
        r'id="assessment-score_need-4"[^>]*checked|checked[^>]*id="assessment-score_need-4"', page
    )
    assert db.session.scalar(db.select(db.func.count()).select_from(Assessment)) == 0


def test_checks_cannot_be_changed_once_changes_are_requested(client):
    application, _applicant = submitted_application()
    staff = sign_in(client, "staff")
    reviews.request_changes(application, "Bitte Registerauszug nachreichen.", [], in_days(7), staff)
    db.session.commit()
    page = page_of(client, application)
    assert f'action="/review/{application.id}/formal-check"' not in page
    response = post(client, application, "formal-check", {"formal-items": ["complete"]})
    assert response.status_code == 302
    assert "only be changed while the application is submitted or in review" in (
        client.get(response.headers["Location"]).get_data(as_text=True)
    )
    assert db.session.scalar(db.select(db.func.count()).select_from(FormalCheck)) == 0


def test_a_stale_page_starts_nothing_and_says_so(client):
    application, _applicant = submitted_application()
    sign_in(client, "staff")
    page_of(client, application)  # seen as "submitted"
    colleague = UserFactory(roles=["staff"])
    reviews.start_review(application, colleague)
    db.session.commit()
    events = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
    response = post(client, application, "start", {"seen_status": "submitted"})
    assert response.status_code == 302
    assert STALE in client.get(response.headers["Location"]).get_data(as_text=True)
    assert application.assigned_to_id == colleague.id
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == events


def test_staff_notes_stay_internal(app: Flask, client):
    application, applicant = submitted_application()
    sign_in(client, "staff")
    secret = "Vorstand wirkt unzuverlässig – intern prüfen"
    assert post(client, application, "notes", {"note-body": secret}).status_code == 302
    [note] = db.session.scalars(db.select(Note)).all()
    assert note.body == secret and secret in page_of(client, application)
    assert post(client, application, "notes", {"note-body": "  "}).status_code == 400

    applicant_client = app.test_client()
    log_in(applicant_client, applicant)
    for url in (
        f"/applications/{application.id}",
        f"/applications/{application.id}/check",
        "/applications/",
    ):
        response = applicant_client.get(url)
        assert response.status_code == 200, url
        assert secret not in response.get_data(as_text=True), url
    assert applicant_client.get(f"/review/{application.id}").status_code == 403


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("start", {"seen_status": "submitted"}),
        ("formal-check", {"formal-items": ["complete"]}),
        ("assessment", {**ALL_SCORES, "assessment-recommendation": "approve"}),
        ("arithmetic", {}),
        ("changes", {"changes-message": "Bitte ergänzen", "changes-deadline": "2099-01-01"}),
        ("notes", {"note-body": "Approver-Notiz"}),
    ],
)
def test_an_approver_reads_but_cannot_change_anything(client, path, data):
    application, _applicant = submitted_application()
    sign_in(client, "approver")
    page = page_of(client, application)
    assert application.reference in page
    assert "<form" not in page.split('id="application"')[1]  # read-only below the header
    assert post(client, application, path, data).status_code == 403
    assert application.status == "submitted"
    assert db.session.scalar(db.select(db.func.count()).select_from(Note)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(FormalCheck)) == 0


@pytest.mark.parametrize("role", ["applicant", "finance"])
def test_applicants_and_finance_cannot_open_the_review(client, role):
    application, _applicant = submitted_application()
    sign_in(client, role)
    assert client.get(f"/review/{application.id}").status_code == 403
    response = client.post(f"/review/{application.id}/start", data={"seen_status": "submitted"})
    assert response.status_code in (400, 403)
    assert application.status == "submitted"


def test_drafts_and_unknown_applications_are_not_found(client):
    submitted, _applicant = submitted_application()
    owner = UserFactory()
    organisation = MembershipFactory(user=owner).organisation
    draft = applications.create_draft(CallFactory(), organisation, owner)
    db.session.flush()
    sign_in(client, "staff")
    assert client.get(f"/review/{draft.id}").status_code == 404
    assert client.get(f"/review/{draft.id + 1000}").status_code == 404
    response = post_form(
        client,
        f"/review/{draft.id}/start",
        {"seen_status": "draft"},
        form_url=f"/review/{submitted.id}",
    )
    assert response.status_code == 404

    # Withdrawn before it was ever submitted: still the applicant's alone.
    applications.withdraw_application(draft, owner)
    db.session.flush()
    assert draft.status == "withdrawn"
    assert client.get(f"/review/{draft.id}").status_code == 404


def in_days(days: int) -> date:
    return utcnow().date() + timedelta(days=days)
