"""Do visitors see the open calls, their conditions and deadlines, and can applicants apply?"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from grants.core.models import utcnow
from grants.organisations.operations import organisations_of
from tests.factories import (
    CallFactory,
    LumpSumItemFactory,
    MembershipFactory,
    ProgrammeFactory,
)
from tests.helpers import logged_in_client


def test_the_list_shows_open_calls_only(client):
    now = utcnow()
    CallFactory(title="Offener Aufruf")
    CallFactory(title="Abgelaufener Aufruf", closes_at=now - timedelta(days=10))
    CallFactory(
        title="Künftiger Aufruf",
        opens_at=now + timedelta(days=5),
        closes_at=now + timedelta(days=50),
    )
    CallFactory(title="Gerade geschlossen", closes_at=now - timedelta(seconds=1))
    page = client.get("/calls").get_data(as_text=True)
    assert "Offener Aufruf" in page
    assert "Abgelaufener Aufruf" not in page
    assert "Künftiger Aufruf" not in page
    assert "Gerade geschlossen" not in page


def test_the_list_shows_programme_grant_range_period_and_deadline_in_german_time(client):
    year = utcnow().year + 2
    programme = ProgrammeFactory(
        name="Kleinförderung Interkulturelle Öffnung",
        min_grant=Decimal("500"),
        max_grant=Decimal("5000"),
    )
    # 31 March, 21:59 UTC is 23:59 in German summer time
    CallFactory(programme=programme, closes_at=datetime(year, 3, 31, 21, 59, tzinfo=UTC))
    page = client.get("/calls").get_data(as_text=True)
    assert "Kleinförderung Interkulturelle Öffnung" in page
    assert programme.description in page
    assert "500,00\xa0€" in page
    assert "5.000,00\xa0€" in page
    assert f"01.01.{year - 2}" in page  # project period
    assert f"Frist: 31.03.{year}, 23:59 Uhr" in page


def test_a_winter_deadline_is_shown_one_hour_after_utc(client):
    year = utcnow().year + 2
    call = CallFactory(closes_at=datetime(year, 1, 31, 22, 59, tzinfo=UTC))
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert f"31.01.{year}, 23:59" in page


def test_the_detail_page_shows_legal_basis_costs_lump_sums_attachments_and_declarations(client):
    item = LumpSumItemFactory(code="B1", amount=Decimal("250.00"), unit="Maßnahme")
    programme = item.programme
    programme.legal_basis = "Förderrichtlinie KOMM-AN NRW; Nr. 12 VVG zu § 44 LHO"
    call = CallFactory(programme=programme)
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "Förderrichtlinie KOMM-AN NRW; Nr. 12 VVG zu § 44 LHO" in page
    assert item.label in page
    assert "250,00\xa0€" in page
    assert 'id="lump-sums-caption"' in page
    assert page.count("kern-list--bullet") == 3  # categories, attachments, declarations
    assert "§ 264" in page  # the subsidy-fraud declaration


def test_the_detail_page_of_an_unknown_call_is_not_found(client):
    assert client.get("/calls/999999").status_code == 404


def test_a_closed_call_says_the_deadline_has_passed_and_offers_no_form(client):
    call = CallFactory(closes_at=utcnow() - timedelta(days=1))
    logged_in_client(client, "applicant")
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "Die Antragsfrist ist abgelaufen." in page
    assert f"/applications/start/{call.id}" not in page


def test_an_applicant_with_one_organisation_applies_with_a_hidden_choice(client):
    call = CallFactory()
    user = logged_in_client(client, "applicant")
    organisation = organisations_of(user)[0]
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert f'action="/applications/start/{call.id}"' in page
    assert f'type="hidden" name="organisation_id" value="{organisation.id}"' in page
    assert "Antrag stellen" in page


def test_an_applicant_with_several_organisations_chooses_one(client):
    call = CallFactory()
    user = logged_in_client(client, "applicant")
    second = MembershipFactory(user=user).organisation
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert '<select class="kern-form-input__select" id="organisation_id"' in page
    assert f'<option value="{second.id}">{second.name}</option>' in page


def test_visitors_and_staff_see_no_application_form(client):
    call = CallFactory()
    assert "/applications/start/" not in client.get(f"/calls/{call.id}").get_data(as_text=True)
    logged_in_client(client, "staff")
    assert "/applications/start/" not in client.get(f"/calls/{call.id}").get_data(as_text=True)


def test_the_main_navigation_links_to_the_calls_for_everyone_and_to_programmes_for_admins(client):
    page = client.get("/calls").get_data(as_text=True)
    assert 'href="/calls">Förderaufrufe<' in page
    assert 'href="/admin/programmes"' not in page
    logged_in_client(client, "admin")
    page = client.get("/start").get_data(as_text=True)
    assert 'href="/calls"' in page
    assert 'href="/admin/programmes"' in page
