"""The staff review in the browser: queue, change request, resubmission, checks, four-eyes sign-off.

A submitted IKOE application of the demo applicant (fees 1,000 €, material 200 €, 90 % share,
1,080 € requested) goes through the whole review; the real worker sends the mails.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from decimal import Decimal
from email.header import decode_header, make_header
from email.message import Message

import pytest
from flask import Flask
from flask_babel import force_locale, format_currency, format_date
from playwright.sync_api import Page, expect
from sqlalchemy import select

from grants.applications import operations
from grants.applications.models import Application
from grants.auth.models import find_user_by_email
from grants.cli import DEMO_PASSWORD, seed_demo
from grants.core.models import to_local, utcnow
from grants.extensions import db
from grants.organisations.models import Organisation
from grants.programmes.models import Call, Programme
from grants.reviews import operations as reviews
from tests.applications.test_application_flow import complete_application
from tests.e2e.conftest import assert_accessible, field, sign_in
from tests.factories import AttachmentFactory, UserFactory
from tests.mailserver import MailServer, body_of

pytestmark = pytest.mark.e2e

APPLICANT = "antrag@demo.example"
STAFF = "sachbearbeitung@demo.example"
APPROVER = "leitung@demo.example"
TITLE = "Sprachcafé Opladen"  # given by complete_application
FEES_LINE = "Honorar Sprachtrainerin"  # 20 × 50 € = 1,000 €
CHANGE_MESSAGE = "Bitte beschreiben Sie genauer, wie Sie die Teilnehmenden erreichen."
NEW_SUMMARY = "Wöchentliches Sprachcafé, beworben über Schulen und die Moscheegemeinde."
CUT_REASON = "Honorarsatz über dem Höchstsatz von 40 € je Stunde."
REASONS = "Die Honorarkosten sind nur bis zum Höchstsatz zuwendungsfähig."
CONDITIONS = "Es gelten die ANBest-P."
PLACEHOLDER = "\x00"


def submitted_ikoe_application() -> Application:
    """The demo applicant's IKOE application, completed and submitted (committed)."""
    seed_demo()
    applicant = find_user_by_email(APPLICANT)
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == "Demo-Verein e.V.")
    )
    call = db.session.scalar(
        select(Call).join(Programme).where(Programme.code == "IKOE", Call.closes_at > utcnow())
    )
    application = operations.create_draft(call, organisation, applicant)
    complete_application(application, applicant)  # with the statutes as attachment
    AttachmentFactory(
        application=application,
        kind="tax_exemption",
        filename="freistellungsbescheid.pdf",
        uploaded_by_id=applicant.id,
    )
    operations.submit_application(application, applicant)
    db.session.commit()
    return application


def messages(page: Page):
    """The status region with the flashed messages."""
    return page.locator('main [role="status"]')


def status_line(page: Page):
    """The staff status in the summary box of the application page."""
    return page.locator("#staff-status")


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def wait_for_subject(mailbox: MailServer, to: str, subject: str, timeout: float = 30) -> Message:
    """The first mail to `to` with exactly this subject (others, e.g. receipts, are ignored)."""
    deadline = time.monotonic() + timeout
    while True:
        with mailbox.lock:
            received = [m for m in mailbox.messages if to in m["To"]]
        for message in received:
            if subject_of(message) == subject:
                return message
        if time.monotonic() > deadline:
            pytest.fail(f"no mail {subject!r} to {to}; got {[subject_of(m) for m in received]}")
        time.sleep(0.1)


def starts_with(text: str) -> re.Pattern:
    """A pattern for the fixed beginning of a translated text, up to its first placeholder."""
    return re.compile("^" + re.escape(text.split(PLACEHOLDER)[0]))


def sign_in_checked(page: Page, email: str) -> None:
    """Sign in with the demo password; the start page of the role passes axe."""
    sign_in(page, email, DEMO_PASSWORD)
    assert_accessible(page)


def sign_out(page: Page, t) -> None:
    page.get_by_role("navigation").get_by_role("button", name=t("Sign out")).click()
    expect(messages(page)).to_contain_text(t("You have been signed out."))
    assert_accessible(page)


@pytest.fixture
def euro(served_app: Flask):
    """euro(amount): an amount as the German pages show it, e.g. '1.080,00 €'."""

    def format_euro(amount: str) -> str:
        with served_app.test_request_context(), force_locale("de"):
            return format_currency(Decimal(amount), "EUR")

    return format_euro


@pytest.fixture
def day(served_app: Flask):
    """day(date): a date as the German pages and mails show it (medium format)."""

    def format_day(value: date) -> str:
        with served_app.test_request_context(), force_locale("de"):
            return format_date(value, "medium")

    return format_day


def test_staff_review_a_resubmitted_application_and_the_approver_signs_off_a_partial_approval(
    page: Page, t, euro, day, celery_worker, mailbox
):
    application = submitted_ikoe_application()
    application_id, reference = application.id, application.reference
    fees_line = next(line for line in application.cost_lines if line.description == FEES_LINE)
    admitted_id, reason_id = (
        f"arithmetic-admitted_{fees_line.id}",
        f"arithmetic-reason_{fees_line.id}",
    )
    deadline = to_local(utcnow()).date() + timedelta(days=10)
    period_start, period_end = application.start_date, application.end_date
    programme_name = application.call.programme.name
    show_url = re.compile(rf"/review/{application_id}(#.*)?$")

    # --- Staff: the queue, filtered and searched, leads to the application. -------------------
    sign_in_checked(page, STAFF)
    page.get_by_role("navigation").get_by_role("link", name=t("Review"), exact=True).click()
    page.wait_for_url("**/review")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Review queue"))
    assert_accessible(page)
    field(page, "queue-q").fill(reference)
    field(page, "queue-status").select_option("submitted")
    page.get_by_role("button", name=t("Apply filters")).click()
    page.wait_for_url(re.compile(r"/review\?.*status=submitted"))
    assert f"q={reference}" in page.url
    queue = page.get_by_role("table")
    expect(queue.get_by_role("row")).to_have_count(2)  # head and the one application
    expect(queue.get_by_role("row").nth(1)).to_contain_text("Demo-Verein e.V.")
    expect(queue.get_by_role("row").nth(1)).to_contain_text(t("Submitted"))
    assert_accessible(page)
    queue.get_by_role("link", name=reference, exact=True).click()
    page.wait_for_url(show_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(status_line(page)).to_have_text(t("Submitted"))
    assert_accessible(page)

    # Start the review and ask for changes to the project section.
    page.get_by_role("button", name=t("Start review")).click()
    expect(messages(page)).to_contain_text(t("The review has started."))
    expect(status_line(page)).to_have_text(t("In review"))
    field(page, "changes-message").fill(CHANGE_MESSAGE)
    field(page, "changes-deadline").fill(deadline.isoformat())
    sections = page.get_by_role("group", name=t("Sections the applicant may change"))
    sections.get_by_role("checkbox", name=t("Project"), exact=True).check()
    page.locator("form").filter(has=sections).get_by_role(
        "button", name=t("Request changes")
    ).click()
    page.wait_for_url(show_url)
    expect(messages(page)).to_contain_text(
        t("The changes have been requested; the applicant is informed.")
    )
    expect(status_line(page)).to_have_text(t("Changes requested"))
    expect(page.locator(".change-request")).to_contain_text(CHANGE_MESSAGE)
    assert_accessible(page)

    mail = wait_for_subject(
        mailbox,
        APPLICANT,
        t("Changes needed by %(date)s: %(reference)s", date=day(deadline), reference=reference),
    )
    body = body_of(mail)
    assert CHANGE_MESSAGE in body
    assert f"/applications/{application_id}" in body
    sign_out(page, t)

    # --- Applicant: sees the request, changes the project, resubmits. ---------------------------
    sign_in_checked(page, APPLICANT)
    page.get_by_role("navigation").get_by_role("link", name=t("Applications")).click()
    page.wait_for_url("**/applications/")
    assert_accessible(page)
    page.get_by_role("table").get_by_role("link", name=TITLE).click()
    page.wait_for_url(re.compile(rf"/applications/{application_id}$"))
    request = page.get_by_role(
        "region", name=t("We need more from you by %(date)s", date=day(deadline))
    )
    expect(request).to_contain_text(CHANGE_MESSAGE)
    tasks = page.locator("main ol.task-list")
    expect(tasks.get_by_role("link")).to_have_count(1)  # only the named section may be changed
    assert_accessible(page)
    tasks.get_by_role("link", name=t("Project"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Project"))
    assert_accessible(page)
    field(page, "summary").fill(NEW_SUMMARY)
    field(page, "expected_participants").fill("55")
    page.locator("main form").get_by_role("button", name=t("Save draft")).click()
    page.wait_for_url(re.compile(rf"/applications/{application_id}$"))
    expect(messages(page)).to_contain_text(t("Your entries have been saved."))
    page.get_by_role("link", name=t("Check your answers and submit")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Check your answers"))
    expect(page.get_by_role("main")).to_contain_text(NEW_SUMMARY)
    assert_accessible(page)
    page.get_by_role("main").get_by_role("button", name=t("Submit the application")).click()
    page.wait_for_url(re.compile(rf"/applications/{application_id}$"))
    expect(messages(page)).to_contain_text(reference)
    expect(page.get_by_role("main")).to_contain_text(
        t("Submitted – we have received your application and will start the review soon.")
    )
    expect(
        page.get_by_role(
            "region", name=starts_with(t("We need more from you by %(date)s", date=PLACEHOLDER))
        )
    ).to_have_count(0)
    assert_accessible(page)
    sign_out(page, t)

    # --- Staff: the differences, the checks, a partial approval. --------------------------------
    sign_in_checked(page, STAFF)
    page.goto(f"/review?status=submitted&q={reference}")
    assert_accessible(page)
    page.get_by_role("table").get_by_role("link", name=reference, exact=True).click()
    page.wait_for_url(show_url)
    versions = page.get_by_role("region", name=t("Versions and changes"))
    expect(versions.get_by_role("heading", level=3).first).to_have_text(
        starts_with(t("Version %(number)d of %(date)s", number=2, date=PLACEHOLDER))
    )
    project_changes = versions.locator('[data-section="project"]').first
    expect(project_changes).to_contain_text(NEW_SUMMARY)
    expect(project_changes.get_by_role("listitem")).to_have_count(2)  # summary and participants
    expect(versions.locator('[data-section="costs"]')).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("button", name=t("Start review")).click()
    expect(status_line(page)).to_have_text(t("In review"))

    formal = page.get_by_role("group", name=t("Formal check"))
    for checkbox in formal.get_by_role("checkbox").all():
        checkbox.check()
    page.get_by_role("button", name=t("Save the formal check")).click()
    expect(messages(page)).to_contain_text(t("The formal check has been saved."))

    for criterion in ("need", "target_group", "volunteering", "sustainability", "cost_ratio"):
        page.locator(f"#assessment-score_{criterion}").get_by_role(
            "radio", name="4", exact=True
        ).check()
    page.get_by_role("group", name=t("Recommendation")).get_by_role(
        "radio", name=t("Approve in part")
    ).check()
    page.get_by_role("button", name=t("Save the assessment")).click()
    expect(messages(page)).to_contain_text(t("The assessment has been saved."))
    assert_accessible(page)

    # The arithmetic check: a cut without a reason is refused, with the error on the reason.
    field(page, admitted_id).fill("800")
    page.get_by_role("button", name=t("Save the arithmetic check")).click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(t("Give a reason for the cut."))
    expect(summary.get_by_role("link")).to_have_attribute("href", f"#{reason_id}")
    reason = field(page, reason_id)
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description(t("Give a reason for the cut."))
    expect(field(page, admitted_id)).to_have_value("800")
    assert_accessible(page)
    reason.fill(CUT_REASON)
    page.get_by_role("button", name=t("Save the arithmetic check")).click()
    expect(messages(page)).to_contain_text(
        t("The arithmetic check has been saved; the grant is recomputed.")
    )
    # 90 % of the admitted 1,000 € would be 900 €, but the declared own funds of 120 € stay:
    # no over-financing, the grant is at most 1,000 € − 120 € = 880 €.
    calculation = page.get_by_role(
        "table", name=t("How the grant is computed from the admitted costs")
    )
    expect(calculation).to_contain_text(t("Limited to the costs not covered by other funds"))
    expect(page.locator("#recomputed-grant")).to_have_text(euro("880"))
    assert_accessible(page)

    # The proposal: a partial approval without reasons is refused, then proposed.
    page.get_by_role("link", name=t("Propose a decision")).click()
    page.wait_for_url(f"**/review/{application_id}/decision")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Propose a decision"))
    expect(field(page, "amount")).to_have_value(re.compile(r"^880(,00)?$"))
    assert_accessible(page)
    page.get_by_role("group", name=t("Decision")).get_by_role(
        "radio", name=t("Approve (fully or partly)")
    ).check()
    field(page, "amount").fill("850")
    field(page, "conditions").fill(CONDITIONS)
    field(page, "period_start").fill(period_start.isoformat())
    field(page, "period_end").fill(period_end.isoformat())
    propose = page.get_by_role("button", name=t("Propose for sign-off"))
    propose.click()
    expect(page.get_by_role("alert")).to_contain_text(
        t("A partial approval and a rejection need reasons.")
    )
    expect(field(page, "reasons")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "conditions")).to_have_value(CONDITIONS)
    assert_accessible(page)
    field(page, "reasons").fill(REASONS)
    propose.click()
    page.wait_for_url(show_url)
    expect(messages(page)).to_contain_text(t("The decision has been proposed for sign-off."))
    expect(status_line(page)).to_have_text(t("Decision proposed"))
    assert_accessible(page)
    sign_out(page, t)

    # --- Approver: the proposals waiting for sign-off; sign off. --------------------------------
    sign_in_checked(page, APPROVER)
    page.get_by_role("link", name=t("Decisions waiting for sign-off")).click()
    page.wait_for_url(re.compile(r"/review\?status=decision_proposed$"))
    expect(field(page, "queue-status")).to_have_value("decision_proposed")
    row = page.get_by_role("table").get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text(t("Decision proposed"))
    assert_accessible(page)
    row.get_by_role("link", name=reference, exact=True).click()
    page.wait_for_url(show_url)
    expect(status_line(page)).to_have_text(t("Decision proposed"))
    expect(page.get_by_role("button", name=t("Save the arithmetic check"))).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name=t("Check the proposed decision")).click()
    page.wait_for_url(f"**/review/{application_id}/sign-off")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Sign off the decision"))
    decision = page.get_by_role("main").locator("dl")
    expect(decision).to_contain_text(t("Partial approval"))
    expect(decision).to_contain_text(euro("850"))
    expect(decision).to_contain_text(REASONS)
    expect(decision).to_contain_text(CONDITIONS)
    assert_accessible(page)
    page.get_by_role("button", name=t("Sign off"), exact=True).click()
    page.wait_for_url(show_url)
    expect(messages(page)).to_contain_text(t("The decision has been signed off."))
    expect(status_line(page)).to_have_text(t("Approved"))
    assert_accessible(page)

    # The budget overview counts the committed grant.
    page.get_by_role("navigation").get_by_role("link", name=t("Budgets")).click()
    page.wait_for_url("**/review/budget")
    ikoe = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=programme_name, exact=True)
    )
    expect(ikoe).to_contain_text(euro("850"))
    assert_accessible(page)
    sign_out(page, t)

    # --- Applicant: the result on the overview, and by mail. ------------------------------------
    sign_in_checked(page, APPLICANT)
    page.goto(f"/applications/{application_id}")
    result = page.get_by_role(
        "region", name=starts_with(t("Decision of %(date)s", date=PLACEHOLDER))
    )
    expect(result).to_contain_text(
        t(
            "Approved grant: %(amount)s for %(start)s to %(end)s.",
            amount=euro("850"),
            start=day(period_start),
            end=day(period_end),
        )
    )
    expect(result).to_contain_text(REASONS)
    expect(page.get_by_role("main")).to_contain_text(
        t("Approved – you will receive the decision letter.")
    )
    assert_accessible(page)
    # One mail, once the decision letter exists (rendered by the document worker).
    decided = wait_for_subject(
        mailbox,
        APPLICANT,
        t("Decision letter for application %(reference)s", reference=reference),
        timeout=60,
    )
    assert f"/applications/{application_id}" in body_of(decided)


def test_the_proposer_cannot_sign_off_their_own_proposal(page: Page, t):
    application = submitted_ikoe_application()
    both = UserFactory(email="beides@demo.example", roles=["staff", "approver"])
    reviews.start_review(application, both)
    db.session.commit()

    sign_in(page, both.email)
    page.goto(f"/review/{application.id}/decision")
    page.get_by_role("group", name=t("Decision")).get_by_role(
        "radio", name=t("Approve (fully or partly)")
    ).check()
    page.get_by_role("button", name=t("Propose for sign-off")).click()
    page.wait_for_url(re.compile(rf"/review/{application.id}(#.*)?$"))
    expect(messages(page)).to_contain_text(t("The decision has been proposed for sign-off."))

    page.get_by_role("link", name=t("Check the proposed decision")).click()
    page.wait_for_url(f"**/review/{application.id}/sign-off")
    main = page.get_by_role("main")
    expect(main).to_contain_text(
        t(
            "You proposed this decision. Another person with the approver role must sign it off "
            "(four-eyes rule)."
        )
    )
    expect(main.get_by_role("button")).to_have_count(0)  # neither sign off nor return
    assert_accessible(page)
