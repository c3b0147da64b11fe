"""The decision letter in the browser: sign-off, the applicant's and finance's downloads, /verify.

The approver signs off a partial approval of the demo applicant's IKOE application; the real
document worker renders the letter; the applicant and the finance officer download it (and the
ZIP), its text is read with pdftotext, and the public verification page accepts the file and
refuses a changed copy. Every page passes axe.
"""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from grants.auth.models import find_user_by_email
from grants.extensions import db
from grants.reviews import operations as reviews
from tests.e2e.conftest import assert_accessible, field
from tests.e2e.test_review import (
    APPLICANT,
    APPROVER,
    REASONS,
    STAFF,
    messages,
    sign_in_checked,
    sign_out,
    submitted_ikoe_application,
    wait_for_subject,
)
from tests.letters.support import wait_for_letter
from tests.letters.test_letters import pdf_text

pytestmark = pytest.mark.e2e

FINANCE = "finanzen@demo.example"
ADMIN = "admin@demo.example"


def proposed_partial_approval():
    """The demo IKOE application with a proposed partial approval of 850 € (committed)."""
    application = submitted_ikoe_application()
    staff = find_user_by_email(STAFF)
    reviews.start_review(application, staff)
    fees = next(line for line in application.cost_lines if line.category == "fees")
    reviews.review_cost_line(fees, Decimal("800.00"), "Höchstsatz 40 € je Stunde.", staff)
    reviews.propose_decision(
        application,
        staff,
        kind="approval",
        amount=Decimal("850.00"),
        reasons=REASONS,
        conditions="Es gelten die ANBest-P.",
        period_start=application.start_date,
        period_end=application.end_date,
    )
    db.session.commit()
    return application


def download(page: Page, link, target: Path) -> bytes:
    with page.expect_download() as info:
        link.click()
    info.value.save_as(target)
    return target.read_bytes()


def test_signed_off_letter_reaches_applicant_and_finance_and_verifies(
    page: Page, t, celery_worker, mailbox, tmp_path
):
    application = proposed_partial_approval()
    application_id, reference = application.id, application.reference

    # --- Approver signs off. -------------------------------------------------------------------
    sign_in_checked(page, APPROVER)
    page.goto(f"/review/{application_id}/sign-off")
    assert_accessible(page)
    page.get_by_role("button", name=t("Sign off"), exact=True).click()
    expect(messages(page)).to_contain_text(t("The decision has been signed off."))
    sign_out(page, t)

    letter = wait_for_letter(application_id, timeout=60)
    wait_for_subject(
        mailbox, APPLICANT, t("Decision letter for application %(reference)s", reference=reference)
    )

    # --- Applicant: the letter on the overview, downloaded. -------------------------------------
    sign_in_checked(page, APPLICANT)
    page.goto(f"/applications/{application_id}")
    letters = page.get_by_role("region", name=t("Decision letters"))
    link = letters.get_by_role("link")
    expect(link).to_have_count(1)
    assert_accessible(page)
    pdf = download(page, link, tmp_path / "applicant.pdf")
    text = pdf_text(pdf)
    assert reference in text
    assert "850,00 €" in text and "achthundertfünfzig Euro" in text
    assert "Rechtsbehelfsbelehrung" in text and "Verwaltungsgericht Köln" in text
    sign_out(page, t)

    # --- Finance: the list, the filter, the letter, the ZIP, a payout. -------------------------
    sign_in_checked(page, FINANCE)
    page.get_by_role("navigation").get_by_role("link", name=t("Payments")).click()
    page.wait_for_url("**/finance/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Decisions for payment"))
    assert_accessible(page)
    field(page, "q").fill(reference)
    field(page, "kind").select_option("partial_approval")
    page.get_by_role("button", name=t("Apply filters")).click()
    page.wait_for_url(re.compile(r"/finance/\?.*kind=partial_approval"))
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text(t("Open"))
    assert_accessible(page)
    finance_pdf = download(
        page,
        rows.nth(1).get_by_role("link", name=t("PDF of %(reference)s", reference=reference)),
        tmp_path / "finance.pdf",
    )
    assert finance_pdf == pdf
    archive = download(
        page,
        page.get_by_role("link", name=t("All letters of this selection (ZIP)")),
        tmp_path / "letters.zip",
    )
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.namelist() == [letter.filename]
        assert zf.read(letter.filename) == pdf

    rows.nth(1).get_by_role("link", name=reference, exact=True).click()
    page.wait_for_url(re.compile(r"/finance/decisions/\d+$"))
    assert_accessible(page)
    field(page, "paid_on").fill("2026-04-01")
    field(page, "amount").fill("900")
    field(page, "booking_reference").fill("KA-2026-17")
    page.get_by_role("button", name=t("Record the payout")).click()
    expect(page.get_by_role("alert")).to_be_visible()  # more than approved: refused
    assert_accessible(page)
    field(page, "amount").fill("300")
    page.get_by_role("button", name=t("Record the payout")).click()
    expect(messages(page)).to_contain_text(
        t("The payout has been recorded; the applicant is informed.")
    )
    expect(page.locator("#payment-state")).to_have_text(t("Partly paid"))
    assert_accessible(page)
    page.get_by_role("link", name=t("Versions, verification codes and downloads")).click()
    page.wait_for_url(re.compile(rf"/letters/applications/{application_id}$"))
    expect(page.get_by_role("main")).to_contain_text(letter.verification_code)
    assert_accessible(page)
    sign_out(page, t)

    # --- Anyone: /verify accepts the file and refuses a changed copy. ---------------------------
    page.get_by_role("contentinfo").get_by_role("link", name=t("Check a decision letter")).click()
    page.wait_for_url("**/verify")
    assert_accessible(page)
    field(page, "file").set_input_files(str(tmp_path / "applicant.pdf"))
    page.get_by_role("button", name=t("Check the file")).click()
    result = page.locator("#verify-result")
    expect(result).to_contain_text(
        t("Genuine and unchanged: this file is a letter issued by this portal.")
    )
    expect(result).to_contain_text(reference)
    assert_accessible(page)

    changed = tmp_path / "changed.pdf"
    changed.write_bytes(
        pdf.replace(b"/Producer", b"/Producex", 1) if b"/Producer" in pdf else pdf + b"%"
    )
    assert changed.read_bytes() != pdf
    field(page, "file").set_input_files(str(changed))
    page.get_by_role("button", name=t("Check the file")).click()
    expect(page.locator("#verify-result")).to_contain_text(
        t("Not confirmed: this file is not an unchanged letter issued by this portal.")
    )
    expect(page.locator("#verify-result")).not_to_contain_text(reference)
    assert_accessible(page)

    field(page, "code").fill(letter.verification_code)
    page.get_by_role("button", name=t("Check the code")).click()
    expect(page.locator("#verify-result")).to_contain_text(reference)
    assert_accessible(page)
    # The printed QR code leads to the same page.
    assert f"/verify?code={letter.verification_code}" in letter.snapshot["verify_url"]


def test_letter_settings_pages_pass_axe(page: Page, t):
    submitted_ikoe_application()  # seeds the demo accounts and programmes
    sign_in_checked(page, ADMIN)
    page.get_by_role("navigation").get_by_role("link", name=t("Letter settings")).click()
    page.wait_for_url("**/admin/letters")
    assert_accessible(page)
    field(page, "remedy_text").fill("Klage beim Verwaltungsgericht Köln.")
    page.get_by_role("button", name=t("Save the letter settings")).click()
    expect(messages(page)).to_contain_text(t("The letter settings have been saved."))
    page.get_by_role("link", name=re.compile(r"\(IKOE\)")).click()
    page.wait_for_url(re.compile(r"/admin/letters/programmes/\d+$"))
    assert_accessible(page)
    page.get_by_role("button", name=t("Add the annex")).click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)
