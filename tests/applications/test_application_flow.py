"""Can an association fill in an application over several visits and submit it – safely?"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from grants.applications import operations
from grants.applications.models import Application, ApplicationVersion
from grants.core.audit import AuditEvent
from grants.core.models import utcnow
from grants.extensions import db
from grants.organisations.models import Membership
from tests.factories import (
    AttachmentFactory,
    CallFactory,
    LumpSumItemFactory,
    MembershipFactory,
    UserFactory,
)
from tests.helpers import logged_in_client, post_form, queued_mails, run_concurrently

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _membership(user):
    return db.session.scalar(db.select(Membership).where(Membership.user_id == user.id))


def _start(client, call, user) -> Application:
    organisation = _membership(user).organisation
    response = post_form(
        client,
        f"/applications/start/{call.id}",
        {"organisation_id": organisation.id},
        form_url="/applications/",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return db.session.scalar(
        db.select(Application).where(Application.organisation_id == organisation.id)
    )


def complete_application(application: Application, user) -> Application:
    """Fill every section through the operations, as the forms would."""
    operations.save_project(
        application,
        {
            "title": "Sprachcafé Opladen",
            "summary": "Wöchentliches Sprachcafé.",
            "goals": "Deutsch üben, Kontakte knüpfen.",
            "target_groups": "Geflüchtete Erwachsene",
            "district": "2",
            "location": "Bürgerhaus Opladen",
            "start_date": date(utcnow().year, 3, 1),
            "end_date": date(utcnow().year, 12, 31),
            "expected_participants": 40,
            "volunteers": 6,
        },
        user,
    )
    operations.add_cost_line(
        application, "fees", "Honorar Sprachtrainerin", Decimal("20"), Decimal("50.00"), user
    )
    operations.add_cost_line(
        application, "material", "Lernmaterial", Decimal("1"), Decimal("200.00"), user
    )
    operations.save_financing(
        application,
        {
            "own_funds": Decimal("120.00"),
            "participant_fees": Decimal("0"),
            "requested_grant": Decimal("1080.00"),
            "third_party_funds": [],
        },
        user,
    )
    AttachmentFactory(application=application, kind="statutes", uploaded_by_id=user.id)
    operations.save_declarations(
        application,
        dict.fromkeys(application.call.programme.required_declarations, True),
        False,
        user,
    )
    db.session.flush()
    return application


@pytest.fixture
def applicant(client):
    return logged_in_client(client)


def test_applicant_starts_a_draft_prefilled_from_the_profile(client, applicant):
    application = _start(client, CallFactory(), applicant)
    assert application.status == "draft"
    assert application.organisation_data["iban"] == application.organisation.iban
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Nicht begonnen" in page or "Not started" in page


def test_a_closed_call_accepts_no_new_drafts(client, applicant):
    call = CallFactory(
        opens_at=utcnow() - timedelta(days=60), closes_at=utcnow() - timedelta(days=1)
    )
    organisation = _membership(applicant).organisation
    response = post_form(
        client,
        f"/applications/start/{call.id}",
        {"organisation_id": organisation.id},
        form_url="/applications/",
    )
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count()).select_from(Application)) == 0


def test_project_draft_keeps_incomplete_input_and_refuses_end_before_start(client, applicant):
    application = _start(client, CallFactory(), applicant)
    url = f"/applications/{application.id}/project"
    assert post_form(client, url, {"title": "Nur ein Titel", "action": "draft"}).status_code == 302
    assert application.title == "Nur ein Titel" and application.summary is None
    response = post_form(
        client,
        url,
        {
            "title": "Neuer Titel",
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
            "action": "draft",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'href="#end_date"' in page
    assert 'value="Neuer Titel"' in page
    assert application.title == "Nur ein Titel"


def test_cost_lines_accept_german_numbers_and_add_up(client, applicant):
    application = _start(client, CallFactory(), applicant)
    url = f"/applications/{application.id}/costs"
    response = post_form(
        client,
        url,
        {
            "kind": "line",
            "line-category": "material",
            "line-description": "Beamer",
            "line-quantity": "2",
            "line-unit_price": "1.234,50",
        },
    )
    assert response.status_code == 302
    assert application.total_costs == Decimal("2469.00")
    assert "2.469,00" in client.get(url).get_data(as_text=True)


def test_ineligible_category_and_too_many_lump_sums_are_refused(client, applicant):
    call = CallFactory()
    item = LumpSumItemFactory(programme=call.programme, max_units=2, amount=Decimal("1000"))
    application = _start(client, call, applicant)
    url = f"/applications/{application.id}/costs"
    refused = post_form(
        client,
        url,
        {
            "kind": "line",
            "line-category": "personnel",
            "line-description": "Stelle",
            "line-quantity": "1",
            "line-unit_price": "100",
        },
    )
    assert refused.status_code == 400
    assert (
        post_form(
            client, url, {"kind": "lump_sum", "lump-item": item.id, "lump-units": "2"}
        ).status_code
        == 302
    )
    too_many = post_form(client, url, {"kind": "lump_sum", "lump-item": item.id, "lump-units": "1"})
    assert too_many.status_code == 400
    assert application.total_costs == Decimal("2000.00")


def test_incomplete_submission_lists_what_is_missing_with_links(client, applicant):
    application = _start(client, CallFactory(), applicant)
    page = client.get(f"/applications/{application.id}/check").get_data(as_text=True)
    assert f'href="/applications/{application.id}/project#title"' in page
    assert f'href="/applications/{application.id}/costs#cost-lines"' in page
    assert f'href="/applications/{application.id}/declarations#declaration_not_started"' in page
    response = post_form(
        client,
        f"/applications/{application.id}/submit",
        {"seen_status": "draft"},
        form_url=f"/applications/{application.id}/check",
    )
    assert response.status_code == 302 and application.status == "draft"


def test_complete_application_is_submitted_frozen_numbered_and_confirmed(client, applicant):
    staff = UserFactory(roles=["staff"])
    call = CallFactory(programme__code="IKOE")
    application = complete_application(_start(client, call, applicant), applicant)
    check = client.get(f"/applications/{application.id}/check").get_data(as_text=True)
    assert "error-summary" not in check
    response = post_form(
        client,
        f"/applications/{application.id}/submit",
        {"seen_status": "draft"},
        form_url=f"/applications/{application.id}/check",
    )
    assert response.status_code == 302
    assert application.status == "submitted"
    assert re.fullmatch(rf"IKOE-{utcnow().year}-\d{{4}}", application.reference)
    [version] = application.versions
    assert version.snapshot["reference"] == application.reference
    assert version.snapshot["financing"]["requested_grant"] == "1080.00"
    assert [line["amount"] for line in version.snapshot["cost_lines"]] == ["1000.00", "200.00"]
    assert queued_mails(applicant.email)[-1]["subject"].endswith(application.reference)
    assert application.reference in queued_mails(staff.email)[-1]["subject"]
    assert (
        db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "application.submit")
        ).details["to"]
        == "submitted"
    )
    # after submission the sections are closed for editing
    post_form(
        client,
        f"/applications/{application.id}/project",
        {"title": "Später geändert"},
        form_url=f"/applications/{application.id}",
    )
    assert application.title == "Sprachcafé Opladen"


def test_submission_after_the_deadline_is_refused(client, applicant):
    call = CallFactory()
    application = complete_application(_start(client, call, applicant), applicant)
    call.closes_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    response = post_form(
        client,
        f"/applications/{application.id}/submit",
        {"seen_status": "draft"},
        form_url=f"/applications/{application.id}",
    )
    assert response.status_code == 302
    assert application.status == "draft" and application.reference is None
    assert db.session.scalar(db.select(db.func.count()).select_from(ApplicationVersion)) == 0


def test_other_organisations_objects_are_not_found(client, applicant):
    other_user = UserFactory()
    other = MembershipFactory(user=other_user).organisation
    foreign = operations.create_draft(CallFactory(), other, other_user)
    complete_application(foreign, other_user)
    attachment = foreign.attachments[0]
    db.session.flush()
    for url in (
        f"/applications/{foreign.id}",
        f"/applications/{foreign.id}/project",
        f"/applications/{foreign.id}/check",
        f"/applications/{foreign.id}/attachments/{attachment.id}",
        f"/applications/{foreign.id}/versions/1.pdf",
    ):
        assert client.get(url).status_code == 404, url
    assert foreign.title not in client.get("/applications/").get_data(as_text=True)


def test_staff_cannot_edit_or_read_an_applicants_draft(client):
    owner = UserFactory()
    organisation = MembershipFactory(user=owner).organisation
    draft = operations.create_draft(CallFactory(), organisation, owner)
    db.session.flush()
    logged_in_client(client, "staff")
    assert client.get(f"/applications/{draft.id}/project").status_code == 403
    assert client.get(f"/applications/{draft.id}/versions/1.pdf").status_code == 404


def test_uploaded_html_disguised_as_pdf_is_refused_and_a_real_pdf_is_kept(client, applicant):
    application = _start(client, CallFactory(), applicant)
    url = f"/applications/{application.id}/attachments"
    fake = post_form(
        client,
        url,
        {
            "kind": "statutes",
            "file": (io.BytesIO(b"<html><body>Satzung</body></html>"), "satzung.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert fake.status_code == 400 and application.attachments == []
    real = post_form(
        client,
        url,
        {"kind": "statutes", "file": (io.BytesIO(MINIMAL_PDF), "satzung.pdf")},
        content_type="multipart/form-data",
    )
    assert real.status_code == 302
    [attachment] = application.attachments
    download = client.get(f"{url}/{attachment.id}")
    assert download.status_code == 200 and download.data == MINIMAL_PDF


def test_submitted_version_can_be_downloaded_as_pdf(client, applicant):
    application = complete_application(_start(client, CallFactory(), applicant), applicant)
    operations.submit_application(application, applicant)
    db.session.flush()
    response = client.get(f"/applications/{application.id}/versions/1.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")


def test_applicant_withdraws_a_submitted_application(client, applicant):
    application = complete_application(_start(client, CallFactory(), applicant), applicant)
    operations.submit_application(application, applicant)
    db.session.flush()
    url = f"/applications/{application.id}/withdraw"
    assert post_form(client, url, {"seen_status": "submitted"}).status_code == 302
    assert application.status == "withdrawn"


@pytest.mark.committed
def test_concurrent_submissions_get_distinct_reference_numbers(app):
    year = utcnow().year
    results = run_concurrently(app, [lambda: operations.next_reference("RACE", year)] * 12)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sorted(results) == [f"RACE-{year}-{n:04d}" for n in range(1, 13)]


def test_cost_line_preview_multiplies_as_the_user_types(client, applicant):
    application = _start(client, CallFactory(), applicant)
    url = f"/applications/{application.id}/costs/preview"
    assert (
        client.get(url, query_string={"line-quantity": "3", "line-unit_price": "12,50"}).text
        == "37,50\xa0€"
    )
    assert client.get(url, query_string={"line-quantity": "x"}).text == "–"
    assert application.cost_lines == []


def test_fractions_of_a_cent_are_refused_not_rounded(client, applicant):
    application = _start(client, CallFactory(), applicant)
    url = f"/applications/{application.id}/costs"
    response = post_form(
        client,
        url,
        {
            "kind": "line",
            "line-category": "material",
            "line-description": "Papier",
            "line-quantity": "1,555",
            "line-unit_price": "100",
        },
    )
    assert response.status_code == 400
    assert 'href="#line-quantity"' in response.get_data(as_text=True)
    assert application.cost_lines == []


def test_amount_fields_are_text_inputs_so_the_decimal_comma_survives(client, applicant):
    application = _start(client, CallFactory(), applicant)
    page = client.get(f"/applications/{application.id}/financing").get_data(as_text=True)
    assert 'type="number"' not in page
    assert re.search(r'<input[^>]*name="own_funds"[^>]*type="text"', page)


def test_save_and_continue_skips_sections_not_open_after_a_change_request(client, applicant):
    from grants.reviews import operations as reviews

    application = complete_application(_start(client, CallFactory(), applicant), applicant)
    operations.submit_application(application, applicant)
    staff = UserFactory(roles=["staff"])
    reviews.request_changes(
        application, "Bitte ergänzen", ["project"], date.today() + timedelta(days=10), staff
    )
    db.session.flush()
    response = post_form(
        client,
        f"/applications/{application.id}/project",
        {"title": "Sprachcafé Opladen", "action": "continue"},
    )
    assert response.headers["Location"] == f"/applications/{application.id}/check"
