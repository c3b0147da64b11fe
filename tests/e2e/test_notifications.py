"""Notifications in the browser: the applicant sees an unread message after staff ask for changes.

Every page on the way passes axe (WCAG 2.1 AA); the count in the header is announced to screen
readers, the centre marks messages read and leads to the application; the e-mail settings and
the admin's outbox page are checked too.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from grants.auth.models import find_user_by_email
from grants.cli import DEMO_PASSWORD, seed_demo
from grants.core.models import to_local, utcnow
from grants.extensions import db
from grants.notifications.operations import mark_all_read
from tests.e2e.conftest import assert_accessible, field, sign_in
from tests.e2e.test_accessibility import assert_no_sideways_scrolling, switch_language
from tests.e2e.test_review import (
    APPLICANT,
    STAFF,
    messages,
    sign_out,
    status_line,
    submitted_ikoe_application,
)
from tests.factories import OutboxMessageFactory

pytestmark = pytest.mark.e2e

CHANGE_MESSAGE = "Bitte ergänzen Sie den Zeitplan des Sprachcafés."


def nav_link(page: Page):
    """The notifications link in the main navigation."""
    return page.get_by_role("navigation").locator("#nav-notifications")


def test_the_applicant_sees_an_unread_notification_after_staff_request_changes(page: Page, t):
    application = submitted_ikoe_application()
    application_id, reference = application.id, application.reference
    # The receipt of the submission is read already: only the change request will be new.
    mark_all_read(find_user_by_email(APPLICANT))
    db.session.commit()
    deadline = to_local(utcnow()).date() + timedelta(days=10)

    # --- Staff ask for changes in the review page. --------------------------------------------
    sign_in(page, STAFF, DEMO_PASSWORD)
    page.goto(f"/review/{application_id}")
    page.get_by_role("button", name=t("Start review")).click()
    expect(status_line(page)).to_have_text(t("In review"))
    field(page, "changes-message").fill(CHANGE_MESSAGE)
    field(page, "changes-deadline").fill(deadline.isoformat())
    sections = page.get_by_role("group", name=t("Sections the applicant may change"))
    sections.get_by_role("checkbox", name=t("Project"), exact=True).check()
    page.locator("form").filter(has=sections).get_by_role(
        "button", name=t("Request changes")
    ).click()
    expect(status_line(page)).to_have_text(t("Changes requested"))
    sign_out(page, t)

    # --- The applicant: one unread notification, announced in the header. ---------------------
    sign_in(page, APPLICANT, DEMO_PASSWORD)
    link = nav_link(page)
    expect(link.locator(".notification-count")).to_have_text("1")
    expect(link.locator(".notification-count")).to_have_attribute("aria-hidden", "true")
    unread = t("%(num)d unread", num=1)
    expect(link).to_have_accessible_name(re.compile(re.escape(unread)))
    assert_accessible(page)

    link.click()
    page.wait_for_url("**/notifications")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Notifications"))
    entry = page.get_by_role("link", name=re.compile(re.escape(reference)))
    expect(entry.first).to_be_visible()
    expect(page.locator(".notification-list__item--unread")).to_have_count(1)
    expect(page.locator(".notification-list__item--unread")).to_contain_text(t("Unread"))
    assert_accessible(page)

    # Opening it leads to the application and marks it read.
    page.locator(".notification-list__item--unread").get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/applications/{application_id}$"))
    expect(page.get_by_text(CHANGE_MESSAGE)).to_be_visible()
    assert_accessible(page)
    expect(nav_link(page).locator(".notification-count")).to_have_count(0)

    # --- The e-mail settings: switch off the receipt, the required ones are listed. -----------
    page.get_by_role("link", name=re.compile(re.escape(t("e-mail settings")))).click()
    page.wait_for_url("**/notifications/settings")
    assert_accessible(page)
    choices = page.get_by_role("group", name=t("Send me an e-mail for"))
    choices.get_by_role("checkbox", name=t("Receipt for a submitted application")).uncheck()
    page.get_by_role("button", name=t("Save settings")).click()
    expect(messages(page)).to_contain_text(t("Your e-mail settings have been saved."))
    expect(
        choices.get_by_role("checkbox", name=t("Receipt for a submitted application"))
    ).not_to_be_checked()
    expect(page.get_by_role("listitem").filter(has_text=t("Change request"))).to_have_count(1)
    assert_accessible(page)


def test_the_admin_outbox_page_is_accessible_and_offers_a_retry(page: Page, t):
    seed_demo()
    message = OutboxMessageFactory(
        status="failed",
        attempts=1,
        last_error="SMTPRecipientsRefused: 550 unknown user",
        processed_at=utcnow(),
        payload={"to": ["weg@example.org"], "subject": "Zugestellt?", "body": "x\n"},
    )
    db.session.commit()
    sign_in(page, "admin@demo.example", DEMO_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name=t("Outbox")).click()
    page.wait_for_url("**/admin/outbox")
    row = page.locator(f"#outbox-{message.id}")
    expect(row).to_contain_text("550 unknown user")
    assert_accessible(page)
    row.get_by_role("button").click()
    expect(messages(page)).to_contain_text(t("Message %(id)d will be sent again.", id=message.id))
    assert_accessible(page)


def test_notification_pages_fit_a_narrow_screen_in_both_languages(page: Page, t):
    application = submitted_ikoe_application()  # the applicant has the receipt, unread
    OutboxMessageFactory(
        status="failed",
        attempts=8,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed " * 3,
        processed_at=utcnow(),
        payload={"to": ["sehr.lange.adresse@example.org"], "subject": "Zugestellt?", "body": "x"},
    )
    db.session.commit()
    page.set_viewport_size({"width": 320, "height": 720})
    for email, paths in [
        (APPLICANT, ["/notifications", "/notifications/settings"]),
        ("admin@demo.example", ["/admin/outbox", "/notifications/settings"]),
    ]:
        page.context.clear_cookies()
        sign_in(page, email, DEMO_PASSWORD)
        for path in paths:
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_have_count(1)
            assert_no_sideways_scrolling(page)
            assert_accessible(page)
        switch_language(page, "en")
        assert_accessible(page)
    assert application.reference
