"""Can administrators set up programmes, their lump-sum catalogues and calls, and nobody else?"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from grants.applications.models import Application, CostLine
from grants.core.audit import AuditEvent
from grants.extensions import db
from grants.programmes.models import Call, LumpSumItem, Programme
from grants.programmes.views import PROBLEM_MESSAGES
from tests.factories import (
    CallFactory,
    LumpSumItemFactory,
    OrganisationFactory,
    ProgrammeFactory,
    UserFactory,
)
from tests.helpers import csrf_token, logged_in_client, post_form

PROGRAMME = {
    "name": "Kleinförderung Interkulturelle Öffnung",
    "code": "ikoe",
    "description": "Projekte zur interkulturellen Öffnung.",
    "legal_basis": "Nr. 12 VVG zu § 44 LHO",
    "financing_type": "share",
    "share_rate": "90",
    "min_grant": "500,00",
    "max_grant": "5.000,00",
    "total_budget": "40.000,00",
    "eligible_categories": ["fees", "material", "rent"],
    "required_attachments": ["statutes", "tax_exemption"],
    "required_declarations": ["not_started", "subsidy_relevant"],
    "proof_of_use_months": "6",
}

CALL = {
    "title": "Förderaufruf 2027",
    "opens_at": "2027-01-15T09:00",
    "closes_at": "2027-03-31T23:59",
    "project_start": "2027-04-01",
    "project_end": "2027-12-31",
    "budget": "20.000,00",
}


def _programme_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Programme))


def _audit_actions(obj) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == obj.__tablename__, AuditEvent.object_id == obj.id)
            .order_by(AuditEvent.id)
        )
    )


def test_admin_creates_a_programme_with_all_fields(client):
    admin = logged_in_client(client, "admin")
    response = post_form(client, "/admin/programmes/new", PROGRAMME)
    assert response.status_code == 302, response.get_data(as_text=True)
    programme = db.session.scalar(select(Programme).where(Programme.code == "IKOE"))
    assert response.headers["Location"] == f"/admin/programmes/{programme.id}"
    assert programme.name == "Kleinförderung Interkulturelle Öffnung"
    assert programme.financing_type == "share"
    assert programme.share_rate == Decimal("90.00")
    assert (programme.min_grant, programme.max_grant) == (Decimal("500"), Decimal("5000"))
    assert programme.total_budget == Decimal("40000.00")
    assert programme.eligible_categories == ["fees", "material", "rent"]
    assert programme.required_attachments == ["statutes", "tax_exemption"]
    assert programme.required_declarations == ["not_started", "subsidy_relevant"]
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.object_type == "programme", AuditEvent.object_id == programme.id
        )
    )
    assert (event.action, event.actor_id) == ("programme.created", admin.id)

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "40.000,00\xa0€" in page


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"share_rate": ""}, "share_rate"),
        ({"share_rate": "0"}, "share_rate"),
        ({"share_rate": "100,01"}, "share_rate"),
        ({"min_grant": "6.000,00"}, "max_grant"),
        ({"total_budget": ""}, "total_budget"),
        ({"total_budget": "-1"}, "total_budget"),
        ({"eligible_categories": []}, "eligible_categories"),
        ({"code": "KOMM AN"}, "code"),
    ],
)
def test_invalid_programme_is_refused_with_a_message_and_nothing_is_saved(client, changes, field):
    logged_in_client(client, "admin")
    response = post_form(client, "/admin/programmes/new", {**PROGRAMME, **changes})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'href="#{field}"' in page  # the error summary links to the field
    assert f'id="{field}-error"' in page
    assert 'value="Kleinförderung Interkulturelle Öffnung"' in page  # what was typed is kept
    assert _programme_count() == 0


def test_share_financing_without_a_rate_says_what_is_missing(app, client):
    logged_in_client(client, "admin")
    data = {**PROGRAMME, "share_rate": ""}
    page = post_form(client, "/admin/programmes/new", data).get_data(as_text=True)
    with app.test_request_context():  # German, the default language
        message = PROBLEM_MESSAGES["share_rate_missing"]()
    assert message in page


def test_a_programme_code_is_used_only_once(client):
    logged_in_client(client, "admin")
    ProgrammeFactory(code="IKOE")
    response = post_form(client, "/admin/programmes/new", PROGRAMME)
    assert response.status_code == 200
    assert 'href="#code"' in response.get_data(as_text=True)
    assert _programme_count() == 1


def test_admin_edits_a_programme_and_a_rate_is_dropped_outside_share_financing(client):
    logged_in_client(client, "admin")
    programme = ProgrammeFactory(code="IKOE", share_rate=Decimal("90"))
    url = f"/admin/programmes/{programme.id}/edit"
    assert 'value="90,00"' in client.get(url).get_data(as_text=True)

    data = {**PROGRAMME, "name": "Neuer Name", "financing_type": "fixed", "share_rate": "90"}
    response = post_form(client, url, data)
    assert response.status_code == 302
    assert programme.name == "Neuer Name"
    assert programme.financing_type == "fixed"
    assert programme.share_rate is None
    assert _audit_actions(programme) == ["programme.updated"]


def test_editing_a_programme_with_minimum_above_maximum_changes_nothing(client):
    logged_in_client(client, "admin")
    programme = ProgrammeFactory(code="IKOE", name="Alter Name")
    url = f"/admin/programmes/{programme.id}/edit"
    data = {**PROGRAMME, "name": "Neuer Name", "min_grant": "5.000,01"}
    response = post_form(client, url, data)
    assert response.status_code == 200
    assert 'href="#max_grant"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert programme.name == "Alter Name"
    assert _audit_actions(programme) == []


def test_admin_adds_edits_and_deletes_lump_sums(client):
    logged_in_client(client, "admin")
    programme = ProgrammeFactory(financing_type="fixed", share_rate=None)
    base = f"/admin/programmes/{programme.id}/lump-sums"
    data = {
        "code": "a1",
        "label": "Ausstattung Ankommenstreffpunkt",
        "unit": "Raum",
        "amount": "1.000,00",
        "max_units": "2",
    }
    assert post_form(client, f"{base}/new", data).status_code == 302
    item = programme.lump_sums[0]
    assert (item.code, item.amount, item.max_units) == ("A1", Decimal("1000.00"), 2)

    page = client.get(f"/admin/programmes/{programme.id}").get_data(as_text=True)
    assert "Ausstattung Ankommenstreffpunkt" in page
    assert "1.000,00\xa0€" in page

    edited = {**data, "amount": "1.200,00", "max_units": ""}
    assert post_form(client, f"{base}/{item.id}", edited).status_code == 302
    assert (item.amount, item.max_units) == (Decimal("1200.00"), None)

    response = post_form(
        client, f"{base}/{item.id}/delete", {}, form_url=f"/admin/programmes/{programme.id}"
    )
    assert response.status_code == 302
    assert db.session.get(LumpSumItem, item.id) is None
    actions = list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "lump_sum_item", AuditEvent.object_id == item.id)
            .order_by(AuditEvent.id)
        )
    )
    assert actions == [
        "programme.lump_sum_added",
        "programme.lump_sum_updated",
        "programme.lump_sum_deleted",
    ]


def test_a_lump_sum_code_is_used_only_once_per_programme(client):
    logged_in_client(client, "admin")
    item = LumpSumItemFactory(code="A1")
    data = {"code": "A1", "label": "Doppelt", "unit": "Raum", "amount": "10,00"}
    response = post_form(client, f"/admin/programmes/{item.programme_id}/lump-sums/new", data)
    assert response.status_code == 200
    assert 'href="#code"' in response.get_data(as_text=True)
    assert len(item.programme.lump_sums) == 1


def test_a_lump_sum_used_by_an_application_cannot_be_deleted(client):
    logged_in_client(client, "admin")
    item = LumpSumItemFactory()
    call = CallFactory(programme=item.programme)
    application = Application(
        organisation=OrganisationFactory(), call=call, created_by=UserFactory()
    )
    application.cost_lines.append(
        CostLine(
            category="lump_sum",
            description=item.label,
            quantity=Decimal("2"),
            unit_price=item.amount,
            amount=item.amount * 2,
            lump_sum_item_id=item.id,
        )
    )
    db.session.add(application)
    db.session.flush()

    show = f"/admin/programmes/{item.programme_id}"
    response = post_form(client, f"{show}/lump-sums/{item.id}/delete", {}, form_url=show)
    assert response.status_code == 302
    assert db.session.get(LumpSumItem, item.id) is not None
    assert "kern-alert--danger" in client.get(show).get_data(as_text=True)


def test_admin_creates_a_call_entered_in_german_winter_and_summer_time(client):
    logged_in_client(client, "admin")
    programme = ProgrammeFactory()
    response = post_form(client, f"/admin/programmes/{programme.id}/calls/new", CALL)
    assert response.status_code == 302, response.get_data(as_text=True)
    call = programme.calls[0]
    # 15 January: CET (UTC+1); 31 March, after the clocks went forward: CEST (UTC+2)
    assert call.opens_at == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    assert call.closes_at == datetime(2027, 3, 31, 21, 59, tzinfo=UTC)
    assert (call.project_start, call.project_end) == (date(2027, 4, 1), date(2027, 12, 31))
    assert call.budget == Decimal("20000.00")
    assert _audit_actions(call) == ["programme.call_created"]

    stored = db.session.execute(
        select(func.to_char(func.timezone("UTC", Call.opens_at), "YYYY-MM-DD HH24:MI")).where(
            Call.id == call.id
        )
    ).scalar()
    assert stored == "2027-01-15 08:00"


def test_the_call_form_shows_stored_times_in_german_time_and_saves_changes(client):
    logged_in_client(client, "admin")
    call = CallFactory(
        opens_at=datetime(2027, 6, 30, 22, 0, tzinfo=UTC),
        closes_at=datetime(2027, 10, 31, 22, 59, tzinfo=UTC),
    )
    url = f"/admin/programmes/{call.programme_id}/calls/{call.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="2027-07-01T00:00"' in page  # summer time, UTC+2
    assert 'value="2027-10-31T23:59"' in page  # winter time again, UTC+1

    data = {**CALL, "title": "Geänderter Aufruf", "opens_at": "2027-07-01T00:00"}
    data["closes_at"] = "2027-10-31T23:59"
    assert post_form(client, url, data).status_code == 302
    assert call.title == "Geänderter Aufruf"
    assert call.opens_at == datetime(2027, 6, 30, 22, 0, tzinfo=UTC)
    assert call.closes_at == datetime(2027, 10, 31, 22, 59, tzinfo=UTC)
    assert _audit_actions(call) == ["programme.call_updated"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"closes_at": "2027-01-15T09:00"}, "closes_at"),
        ({"closes_at": "2027-01-14T23:59"}, "closes_at"),
        ({"project_end": "2027-03-31"}, "project_end"),
        ({"opens_at": ""}, "opens_at"),
        ({"opens_at": "15.01.2027"}, "opens_at"),
        ({"opens_at": "2027-03-28T02:30"}, "opens_at"),  # skipped when the clocks go forward
        ({"budget": "-5"}, "budget"),
    ],
)
def test_invalid_call_is_refused_with_a_message_and_nothing_is_saved(client, changes, field):
    logged_in_client(client, "admin")
    programme = ProgrammeFactory()
    response = post_form(client, f"/admin/programmes/{programme.id}/calls/new", {**CALL, **changes})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'href="#{field}"' in page
    assert 'value="Förderaufruf 2027"' in page
    assert programme.calls == []


def test_editing_a_call_to_close_before_it_opens_changes_nothing(client):
    logged_in_client(client, "admin")
    call = CallFactory(title="Alt")
    before = (call.opens_at, call.closes_at)
    url = f"/admin/programmes/{call.programme_id}/calls/{call.id}"
    data = {**CALL, "title": "Neu", "opens_at": "2027-05-01T00:00", "closes_at": "2027-04-01T00:00"}
    response = post_form(client, url, data)
    assert response.status_code == 200
    assert 'href="#closes_at"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert (call.title, call.opens_at, call.closes_at) == ("Alt", *before)


def test_the_admin_list_shows_programmes_with_their_calls_and_budgets(client):
    logged_in_client(client, "admin")
    call = CallFactory(title="Aufruf mit Budget", budget=Decimal("12500.00"))
    page = client.get("/admin/programmes").get_data(as_text=True)
    assert call.programme.name in page
    assert "Aufruf mit Budget" in page
    assert "12.500,00\xa0€" in page
    assert "40.000,00\xa0€" in page


def test_a_call_of_another_programme_is_not_found(client):
    logged_in_client(client, "admin")
    call = CallFactory()
    other = ProgrammeFactory()
    assert client.get(f"/admin/programmes/{other.id}/calls/{call.id}").status_code == 404
    item = LumpSumItemFactory()
    assert client.get(f"/admin/programmes/{other.id}/lump-sums/{item.id}").status_code == 404


def _admin_programme_rules(app: Flask):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("programmes.") and rule.rule.startswith("/admin/"):
            yield rule


def test_every_admin_programme_endpoint_requires_the_admin_role(app):
    endpoints = {rule.endpoint for rule in _admin_programme_rules(app)}
    assert len(endpoints) == 9
    assert all(app.view_functions[e].access_rule == "roles:admin" for e in endpoints)


@pytest.mark.parametrize("role", ["applicant", "staff", "approver", "finance"])
def test_non_admins_get_403_on_every_admin_programme_page(app, client, role):
    logged_in_client(client, role)
    item = LumpSumItemFactory()
    call = CallFactory(programme=item.programme)
    values = {"programme_id": item.programme_id, "item_id": item.id, "call_id": call.id}
    token = csrf_token(client, "/calls")
    for rule in _admin_programme_rules(app):
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
        if "GET" in rule.methods:
            assert client.get(url).status_code == 403, url
        if "POST" in rule.methods:
            assert client.post(url, data={"csrf_token": token}).status_code == 403, url
    assert item.programme.lump_sums == [item]
