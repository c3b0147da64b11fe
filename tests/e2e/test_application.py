"""From the public call to a submitted KOMM-AN application, through the real worker and SMTP."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale, format_currency
from playwright.sync_api import Page, expect
from sqlalchemy import select
from weasyprint import HTML
from werkzeug.datastructures import FileStorage

from grants.applications import operations, storage
from grants.applications.models import Application
from grants.auth.models import find_user_by_email
from grants.cli import DEMO_PASSWORD, seed_demo
from grants.core.models import utcnow
from grants.extensions import db
from grants.programmes.catalogue import DECLARATIONS
from grants.programmes.models import Call, LumpSumItem, Programme
from tests.e2e.conftest import assert_accessible, field, sign_in

pytestmark = pytest.mark.e2e

APPLICANT = "antrag@demo.example"
STAFF = "sachbearbeitung@demo.example"
ORGANISATION = "Demo-Verein e.V."
TITLE = "Willkommenscafé Opladen"
SUBMITTED = "Submitted – we have received your application and will start the review soon."


def open_komman_call() -> Call:
    """The open KOMM-AN call of the demo data."""
    return db.session.scalar(
        select(Call).join(Programme).where(Programme.code == "KOMMAN", Call.closes_at > utcnow())
    )


def messages(page: Page):
    """The status region with the flashed messages (not the live <output> of the cost plan)."""
    return page.locator('main [role="status"]')


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


@pytest.fixture
def euro(served_app: Flask):
    """euro(amount): an amount as the German pages show it, e.g. '2.149,90 €'."""

    def format_euro(amount: str) -> str:
        with served_app.test_request_context(), force_locale("de"):
            return format_currency(Decimal(amount), "EUR")

    return format_euro


@pytest.fixture
def statutes_pdf(tmp_path: Path) -> Path:
    """A small real PDF to upload as the statutes."""
    path = tmp_path / "Satzung-Demo-Verein.pdf"
    HTML(string="<h1>Satzung</h1><p>§ 1 Name und Sitz</p>").write_pdf(path)
    return path


def test_applicant_fills_in_and_submits_a_komman_application(
    page: Page, t, euro, statutes_pdf: Path, celery_worker, mailbox
):
    seed_demo()
    db.session.commit()
    call = open_komman_call()
    # Inside the call's project period, in its last year.
    start = date(call.project_end.year, 3, 1)
    end = date(call.project_end.year, 11, 30)
    assert call.project_start <= start < end <= call.project_end

    # The public calls → the KOMM-AN call → apply.
    sign_in(page, APPLICANT, DEMO_PASSWORD)
    assert_accessible(page)
    page.get_by_role("navigation").get_by_role("link", name=t("Calls for proposals")).click()
    page.wait_for_url("**/calls")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Calls for proposals"))
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name=call.title, exact=True).click()
    page.wait_for_url(f"**/calls/{call.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(call.title)
    assert_accessible(page)

    apply_section = page.get_by_role("region", name=t("Apply for this call"))
    expect(apply_section).to_contain_text(ORGANISATION)
    apply_section.get_by_role("button", name=t("Apply")).click()

    # The task list of the new draft.
    page.wait_for_url(re.compile(r"/applications/\d+$"))
    # A redirect keeps the fragment of the page it came from (e.g. "#end_date").
    overview_url = re.compile(re.escape(page.url) + r"(#.*)?$")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Untitled application"))
    expect(messages(page)).to_contain_text(
        t("Your application has been started. You can fill it in over several visits.")
    )
    tasks = (
        page.get_by_role("main")
        .get_by_role("list")
        .filter(has=page.get_by_role("link", name=t("Project"), exact=True))
    )
    expect(tasks.get_by_role("link", name=t("Project"), exact=True)).to_have_accessible_description(
        t("Not started")
    )
    assert_accessible(page)

    # Project section: first the end before the start.
    tasks.get_by_role("link", name=t("Project"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Project"))
    assert_accessible(page)
    field(page, "title").fill(TITLE)
    field(page, "summary").fill("Ein wöchentliches Café für neu angekommene Familien.")
    field(page, "goals").fill("Kontakte knüpfen, Orientierung im Stadtteil geben.")
    field(page, "target_groups").fill("Geflüchtete Familien und Nachbarinnen und Nachbarn.")
    field(page, "district").select_option("2")
    field(page, "location").fill("Bürgerhaus Opladen, Kölner Straße 1")
    field(page, "start_date").fill(start.isoformat())
    wrong_end = (start - timedelta(days=1)).isoformat()
    field(page, "end_date").fill(wrong_end)
    field(page, "expected_participants").fill("40")
    field(page, "volunteers").fill("8")
    save_draft = page.locator("main form").get_by_role("button", name=t("Save draft"))
    save_draft.click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name=t("Please check your entries"))).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary.get_by_role("link")).to_have_attribute("href", "#end_date")
    end_field = field(page, "end_date")
    expect(end_field).to_have_attribute("aria-invalid", "true")
    expect(end_field).to_have_accessible_description(
        re.compile(re.escape(t("The end must not be before the start.")))
    )
    assert_accessible(page)
    summary.get_by_role("link").click()
    expect(end_field).to_be_focused()
    expect(end_field).to_have_value(wrong_end)
    expect(field(page, "title")).to_have_value(TITLE)
    expect(field(page, "district")).to_have_value("2")
    expect(field(page, "start_date")).to_have_value(start.isoformat())
    expect(field(page, "expected_participants")).to_have_value("40")
    expect(field(page, "volunteers")).to_have_value("8")

    end_field.fill(end.isoformat())
    save_draft.click()
    page.wait_for_url(overview_url)
    expect(messages(page)).to_contain_text(t("Your entries have been saved."))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("link", name=t("Project"), exact=True)).to_have_accessible_description(
        t("Complete")
    )
    assert_accessible(page)

    # Sign out; the draft waits for the next visit.
    page.get_by_role("navigation").get_by_role("button", name=t("Sign out")).click()
    expect(messages(page)).to_contain_text(t("You have been signed out."))
    assert_accessible(page)

    sign_in(page, APPLICANT, DEMO_PASSWORD)
    assert_accessible(page)
    page.get_by_role("navigation").get_by_role("link", name=t("Applications")).click()
    page.wait_for_url("**/applications/")
    applications = page.get_by_role("table", name=t("Your applications"))
    row = applications.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text(
        t("Draft – not submitted yet. You can change it until you submit it.")
    )
    assert_accessible(page)
    row.get_by_role("link", name=TITLE).click()
    page.wait_for_url(overview_url)

    # Cost plan: lump sums A1 × 1 and B1 × 4 (2,000 €), and one line of material costs.
    page.get_by_role("link", name=t("Cost plan"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Cost plan"))
    assert_accessible(page)
    add_lump_sum = page.get_by_role("button", name=t("Add lump sum"))
    for code, units in (("A1", "1"), ("B1", "4")):
        item = field(page, "lump-item")
        value = item.locator("option", has_text=re.compile(rf"^{code} ")).get_attribute("value")
        item.select_option(value)
        field(page, "lump-units").fill(units)
        add_lump_sum.click()
        expect(messages(page)).to_contain_text(t("The cost line has been added."))

    field(page, "line-category").select_option("material")
    field(page, "line-description").fill("Spiele und Bastelmaterial")
    field(page, "line-quantity").fill("2")
    field(page, "line-unit_price").fill("74,95")
    # The live amount of the line (htmx asks the server while typing).
    expect(page.locator("output#line-amount")).to_have_text(euro("149.90"))
    page.get_by_role("button", name=t("Add cost line")).click()
    expect(messages(page)).to_contain_text(t("The cost line has been added."))

    costs = page.get_by_role("table", name=t("Costs so far"))
    expect(costs.get_by_role("row")).to_have_count(1 + 4 + 3 + 1)  # head, groups, lines, total
    expect(
        costs.get_by_role("row").filter(
            has_text=t("Subtotal %(category)s", category=t("Lump sums"))
        )
    ).to_contain_text(euro("2000"))
    expect(
        costs.get_by_role("row").filter(
            has_text=t("Subtotal %(category)s", category=t("Material costs"))
        )
    ).to_contain_text(euro("149.90"))
    expect(costs.get_by_role("row").filter(has_text=t("Total costs"))).to_contain_text(
        euro("2149.90")
    )
    assert_accessible(page)

    # Financing plan: fixed financing, the grant is the lump-sum total; own funds do the rest.
    page.get_by_role("link", name=t("Continue to the financing plan")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Financing plan"))
    calculation = page.get_by_role("table", name=t("How the largest possible grant is calculated"))
    expect(
        calculation.get_by_role("row").filter(has_text=t("Largest possible grant"))
    ).to_contain_text(euro("2000"))
    assert_accessible(page)
    field(page, "own_funds").fill("149,90")
    field(page, "requested_grant").fill("2000")
    page.locator("main form").get_by_role("button", name=t("Save and continue")).click()

    # Attachments: the statutes as a real PDF.
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Attachments"))
    assert_accessible(page)
    field(page, "kind").select_option("statutes")
    field(page, "file").set_input_files(statutes_pdf)
    page.get_by_role("button", name=t("Upload")).click()
    expect(messages(page)).to_contain_text(t("The file has been uploaded."))
    expect(page.get_by_role("link", name=statutes_pdf.name)).to_be_visible()
    assert_accessible(page)

    # Declarations: all confirmed, no input-tax deduction; "continue" leads to the check.
    page.get_by_role("link", name=t("Continue to the declarations")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Declarations"))
    assert_accessible(page)
    for code in DECLARATIONS:
        field(page, f"declaration_{code}").check()
    input_tax = page.get_by_role(
        "group", name=t("May your organisation deduct input tax (Vorsteuerabzug) for this project?")
    )
    input_tax.get_by_role("radio", name=t("No"), exact=True).check()
    page.locator("main form").get_by_role("button", name=t("Save and continue")).click()

    # Check your answers: nothing missing, the figures as entered.
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Check your answers"))
    expect(page.get_by_role("alert")).to_have_count(0)
    main = page.get_by_role("main")
    expect(main).to_contain_text(TITLE)
    expect(main).to_contain_text(statutes_pdf.name)
    expect(page.get_by_role("table", name=t("Cost plan")).get_by_role("row").last).to_contain_text(
        euro("2149.90")
    )
    assert_accessible(page)
    main.get_by_role("button", name=t("Submit the application")).click()

    # Submitted: reference number and the plain status on the overview.
    page.wait_for_url(overview_url)
    reference_pattern = rf"KOMMAN-{utcnow().year}-\d{{4}}"
    flash = messages(page)
    expect(flash).to_contain_text(re.compile(reference_pattern))
    reference = re.search(reference_pattern, flash.inner_text()).group(0)
    main = page.get_by_role("main")
    expect(main).to_contain_text(t(SUBMITTED))
    status_box = main.locator("dl")
    expect(status_box).to_contain_text(reference)
    expect(page.get_by_role("link", name=t("Check your answers and submit"))).to_have_count(0)
    assert_accessible(page)

    # The worker sends the receipt to the applicant and a notice to the case worker.
    [receipt] = mailbox.wait_for(1, timeout=30, to=APPLICANT)
    assert subject_of(receipt) == t("Application received: %(reference)s", reference=reference)
    [notice] = mailbox.wait_for(1, timeout=30, to=STAFF)
    assert subject_of(notice) == t("New application: %(reference)s", reference=reference)


def submitted_application(pdf: Path) -> Application:
    """The demo draft, completed and submitted through the operations (committed)."""
    seed_demo()
    applicant = find_user_by_email(APPLICANT)
    application = db.session.scalar(
        select(Application).where(Application.title == "Ankommenstreffpunkt Wiesdorf")
    )
    call = application.call
    operations.save_project(
        application,
        {
            "goals": "Ankommen erleichtern.",
            "target_groups": "Neu zugewanderte Familien.",
            "start_date": call.project_start,
            "end_date": call.project_end,
            "expected_participants": 30,
        },
        applicant,
    )
    b1 = db.session.scalar(
        select(LumpSumItem).where(
            LumpSumItem.programme_id == call.programme_id, LumpSumItem.code == "B1"
        )
    )
    operations.add_lump_sum(application, b1, 2, applicant)  # with A1 × 1: 1,500 €
    operations.save_financing(
        application, {"own_funds": Decimal("0"), "requested_grant": Decimal("1500")}, applicant
    )
    with pdf.open("rb") as stream:
        upload = FileStorage(stream, filename=pdf.name, content_type="application/pdf")
        storage.store_attachment(application, "statutes", upload, applicant)
    operations.save_declarations(application, dict.fromkeys(DECLARATIONS, True), False, applicant)
    operations.submit_application(application, applicant)
    db.session.commit()
    return application


def test_applicant_downloads_the_summary_pdf_and_reads_the_calls_in_english(
    page: Page, t, statutes_pdf: Path
):
    application = submitted_application(statutes_pdf)
    call = application.call

    sign_in(page, APPLICANT, DEMO_PASSWORD)
    page.goto(f"/applications/{application.id}")
    expect(page.get_by_role("main")).to_contain_text(application.reference)
    assert_accessible(page)
    link = page.get_by_role("main").locator(
        f'a[href="/applications/{application.id}/versions/1.pdf"]'
    )
    expect(link).to_have_count(1)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"{application.reference}-v1.pdf"
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF-")
    assert b"%%EOF" in content[-1024:]

    # At 320 CSS pixels the cost table of the submitted answers scrolls inside a region that
    # keyboard users can focus (it holds no link or button of its own).
    page.set_viewport_size({"width": 320, "height": 720})
    page.goto(f"/applications/{application.id}/check")
    region = page.get_by_role("region", name=t("Cost plan"))
    expect(region).to_have_attribute("tabindex", "0")
    expect(region.get_by_role("table", name=t("Cost plan"))).to_be_visible()
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The public calls in English.
    page.goto("/calls")
    page.get_by_role("banner").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Calls for proposals")
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name=call.title, exact=True).click()
    page.wait_for_url(f"**/calls/{call.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(call.title)
    expect(page.get_by_role("heading", name="Apply for this call")).to_be_visible()
    expect(page.get_by_role("table", name="Lump-sum catalogue")).to_be_visible()
    assert_accessible(page)


def test_german_amount_with_cents_can_be_typed_into_the_cost_plan(page: Page, t, euro):
    seed_demo()
    db.session.commit()
    draft = db.session.scalar(
        select(Application).where(Application.title == "Ankommenstreffpunkt Wiesdorf")
    )

    sign_in(page, APPLICANT, DEMO_PASSWORD)
    page.goto(f"/applications/{draft.id}/costs")
    field(page, "line-category").select_option("material")
    field(page, "line-description").fill("Spiele und Bastelmaterial")
    field(page, "line-quantity").press_sequentially("1")
    unit_price = field(page, "line-unit_price")
    unit_price.press_sequentially("149,90")
    assert unit_price.input_value() == "149,90"
    page.get_by_role("button", name=t("Add cost line")).click()
    costs = page.get_by_role("table", name=t("Costs so far"))
    expect(costs.get_by_role("row").filter(has_text="Spiele und Bastelmaterial")).to_contain_text(
        euro("149.90")
    )
