"""The finance officers' area: filters, downloads, exports and payouts."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest

from grants.core.outbox import OutboxMessage
from grants.extensions import db
from grants.finance import operations as finance
from grants.finance.models import Payout
from grants.letters import operations as letters
from grants.letters.models import ProgrammeLetterSettings
from grants.letters.operations import RENDER_TASK
from tests.factories import CallFactory, ProgrammeFactory, UserFactory
from tests.helpers import log_in, logged_in_client, post_form, queued_mails, run_concurrently
from tests.letters.support import issued, render_queued, signed_off
from tests.reviews.test_decisions import in_review, propose


@pytest.fixture
def officer(client):
    return logged_in_client(client, "finance")


def _csv_rows(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_only_finance_officers_reach_the_finance_area(client):
    for role in ("applicant", "staff", "approver", "admin"):
        with client.session_transaction() as session:
            session.clear()
        logged_in_client(client, role)
        for url in ("/finance/", "/finance/export.csv", "/finance/letters.zip"):
            assert client.get(url).status_code == 403, (role, url)


def test_finance_sees_the_nav_link_and_the_signed_off_decisions(client, officer):
    application, _decision, letter = issued("approval")
    page = client.get("/finance/").get_data(as_text=True)
    assert 'href="/finance/"' in page
    assert application.reference in page
    assert f"/letters/{letter.id}.pdf" in page


def test_filters_narrow_the_list(client, officer):
    first_programme = ProgrammeFactory()
    approved, _d1, _l1 = issued("approval", call=CallFactory(programme=first_programme))
    partial, _d2, _l2 = issued("partial_approval")
    rejected, _d3, _l3 = issued("rejection")

    def listed(**args) -> set[str]:
        page = finance.decision_page(finance.DecisionFilter(**args))
        return {row.application.reference for row in page.rows}

    everything = {approved.reference, partial.reference, rejected.reference}
    assert listed() == everything
    assert listed(programme_id=first_programme.id) == {approved.reference}
    assert listed(call_id=partial.call_id) == {partial.reference}
    assert listed(kind="rejection") == {rejected.reference}
    assert listed(payment="open") == {approved.reference, partial.reference}
    assert listed(q=partial.reference.lower()) == {partial.reference}
    assert listed(q=approved.organisation.name) == {approved.reference}
    today = date.today()
    assert listed(date_from=today - timedelta(days=1), date_to=today + timedelta(days=1)) == (
        everything
    )
    assert listed(date_from=today + timedelta(days=2)) == set()
    # Through the page, the URL carries the filter to the exports.
    page = client.get(f"/finance/?kind=rejection&q={rejected.reference}").get_data(as_text=True)
    assert rejected.reference in page and approved.reference not in page
    assert f"/finance/export.csv?q={rejected.reference}&amp;kind=rejection" in page


def test_the_list_is_paginated(client, officer, monkeypatch):
    references = [issued("rejection")[0].reference for _ in range(3)]
    monkeypatch.setattr(finance, "PAGE_SIZE", 2)
    page = finance.decision_page(finance.DecisionFilter(), page=2, per_page=2)
    assert (page.total, page.pages, page.page, len(page.rows)) == (3, 2, 2, 1)
    html = client.get("/finance/?page=1").get_data(as_text=True)
    assert '<p class="kern-body" id="result-count">3 Entscheidungen gefunden.</p>' in html
    # The page size holds on the page itself: two rows, then the third on the next page.
    assert [reference in html for reference in references] == [False, True, True]
    assert 'rel="next"' in html
    html = client.get("/finance/?page=2").get_data(as_text=True)
    assert [reference in html for reference in references] == [True, False, False]
    assert 'rel="prev"' in html


def test_payouts_show_partly_paid_and_paid_and_never_exceed_the_approval(client, officer):
    application, decision, _letter = issued("partial_approval")  # 850 €
    member = application.organisation.memberships[0].user
    url = f"/finance/decisions/{decision.id}"
    response = post_form(
        client,
        url,
        {"paid_on": "2026-04-01", "amount": "500,00", "booking_reference": "=SUM(A1)"},
    )
    assert response.status_code == 302
    assert finance.payment_state(decision, finance.paid_total(decision)) == "partly"
    assert [m["template"] for m in queued_mails(member.email)][-1] == "finance/payout_recorded"
    assert finance.decision_page(finance.DecisionFilter(payment="partly")).total == 1

    response = post_form(
        client, url, {"paid_on": "2026-05-01", "amount": "350,01", "booking_reference": "B-2"}
    )
    assert response.status_code == 200  # refused, with the figures
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "350,00" in page
    assert db.session.scalar(db.select(db.func.count(Payout.id))) == 1

    post_form(
        client, url, {"paid_on": "2026-05-01", "amount": "350,00", "booking_reference": "B-2"}
    )
    assert finance.paid_total(decision) == Decimal("850.00")
    assert finance.decision_page(finance.DecisionFilter(payment="paid")).total == 1
    page = client.get(url).get_data(as_text=True)
    assert 'id="payment-state">Ausgezahlt</dd>' in page
    assert "Auszahlung erfassen" not in page  # nothing left to pay


def test_a_rejection_takes_no_payout(officer):
    _application, decision, _letter = issued("rejection")
    with pytest.raises(finance.FinanceError) as error:
        finance.record_payout(decision, date.today(), Decimal("1.00"), "X", officer)
    assert error.value.code == "not_an_approval"


def test_payouts_of_a_decision_that_is_not_signed_off_are_404(client, officer):
    staff = UserFactory(roles=["staff"])
    proposed = propose(in_review(staff), staff)
    db.session.flush()
    assert client.get(f"/finance/decisions/{proposed.id}").status_code == 404
    assert client.get("/finance/decisions/999999").status_code == 404


@pytest.mark.committed
def test_concurrent_payouts_never_pay_more_than_approved(app):
    officer = UserFactory(roles=["finance"])
    _application, decision, _approver = signed_off("approval")  # 1,080 €
    # No letter here: a worker left running by an earlier test would render it while this
    # test's tables are emptied afterwards.
    for message in db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.task == RENDER_TASK)
    ):
        db.session.delete(message)
    db.session.commit()
    decision_id, officer_id = decision.id, officer.id

    def pay() -> Payout:
        return finance.record_payout(
            db.session.get(type(decision), decision_id),
            date.today(),
            Decimal("600.00"),
            "parallel",
            db.session.get(type(officer), officer_id),
        )

    results = run_concurrently(app, [pay, pay])
    codes = ["paid" if isinstance(r, Payout) else r.code for r in results]
    assert sorted(codes) == ["above_approved", "paid"]
    assert finance.paid_total(db.session.get(type(decision), decision_id)) == Decimal("600.00")


def test_csv_export_has_bom_semicolons_and_neutralised_formulas(client, officer):
    application, _decision, _letter = issued("approval")
    application.organisation.name = '=HYPERLINK("http://evil.example","klick")'
    db.session.add(
        ProgrammeLetterSettings(programme_id=application.call.programme_id, budget_item="+1.3.2")
    )
    issued("rejection")  # not in a payment export
    db.session.flush()
    response = client.get("/finance/export.csv")
    assert response.mimetype == "text/csv"
    header, *rows = _csv_rows(response)
    assert header == list(finance.EXPORT_COLUMNS)
    assert len(rows) == 1
    reference, organisation, iban, amount, approved_on, programme, budget_item = rows[0]
    assert reference == application.reference
    assert organisation == '\'=HYPERLINK("http://evil.example","klick")'
    assert budget_item == "'+1.3.2"
    assert iban == application.organisation.iban
    assert amount == "1080,00"
    assert approved_on == date.today().strftime("%d.%m.%Y")
    for value in ("-1", "@SUM(1)", "\t=1", "harmless"):
        assert finance.neutralise(value) == (value if value == "harmless" else "'" + value)


def test_xlsx_export_is_readable_with_numbers_and_dates(client, officer):
    application, _decision, _letter = issued("partial_approval")
    application.organisation.name = "@Verein"
    db.session.flush()
    response = client.get("/finance/export.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == finance.EXPORT_COLUMNS
    reference, organisation, iban, amount, approved_on, programme, _item = rows[1]
    assert (reference, organisation, amount) == (application.reference, "'@Verein", 850)
    assert approved_on.date() == date.today()
    assert programme == application.call.programme.name


def test_zip_holds_the_newest_letter_of_every_filtered_decision(client, officer):
    first, _d1, letter_1 = issued("approval")
    _second, _d2, letter_2 = issued("rejection")
    admin = UserFactory(roles=["admin"])
    letters.queue_letter(first, admin)
    (newer,) = render_queued()
    response = client.get("/finance/letters.zip")
    assert response.mimetype == "application/zip"
    assert response.is_streamed
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == sorted([newer.filename, letter_2.filename])
    assert archive.read(newer.filename) == letters.letter_path(newer).read_bytes()
    assert archive.testzip() is None
    filtered = zipfile.ZipFile(io.BytesIO(client.get("/finance/letters.zip?kind=rejection").data))
    assert filtered.namelist() == [letter_2.filename]
    assert letter_1.filename not in filtered.namelist()


def test_an_empty_zip_selection_is_explained(client, officer):
    response = client.get("/finance/letters.zip?kind=approval")
    assert response.status_code == 302
    assert response.headers["Location"] == "/finance/?kind=approval"  # back to the same filter
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Zu diesem Filter gibt es keine Bescheide." in page


def test_stream_zip_yields_pieces_not_one_blob(tmp_path):
    paths = []
    for number in range(3):
        path = tmp_path / f"{number}.pdf"
        path.write_bytes(b"%PDF-" + bytes([number]) * 600_000)
        paths.append((f"{number}.pdf", str(path)))
    pieces = list(finance.stream_zip(paths))
    assert max(len(piece) for piece in pieces) <= finance.ZIP_CHUNK + 4096
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.read("2.pdf") == (tmp_path / "2.pdf").read_bytes()


def test_applicant_sees_no_finance_data(client):
    application, _decision, _letter = issued("approval")
    log_in(client, application.organisation.memberships[0].user)
    assert client.get("/finance/").status_code == 403
    assert 'href="/finance/"' not in client.get("/start").get_data(as_text=True)
