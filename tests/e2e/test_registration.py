"""From the home page to a registered organisation, through the real mail worker and SMTP."""

from __future__ import annotations

import re
from email.header import decode_header, make_header

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_accessible, field
from tests.mailserver import body_of

pytestmark = pytest.mark.e2e

EMAIL = "amira.yilmaz@example.org"
PASSWORD = "Sicher-genug-2026"
ORGANISATION = "Begegnung am Rhein e.V."


def test_register_confirm_sign_in_and_create_organisation(
    page: Page, t, live_server, celery_worker, mailbox
):
    # Home page → registration form.
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name=t("Register your organisation")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Register"))
    assert_accessible(page)

    field(page, "full_name").fill("Amira Yilmaz")
    field(page, "email").fill(EMAIL)
    field(page, "password").fill(PASSWORD)
    field(page, "password_repeat").fill(PASSWORD)
    field(page, "privacy").check()
    page.locator("main form").get_by_role("button", name=t("Create account")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(t("Check your e-mail"))
    assert_accessible(page)

    # The worker delivers the confirmation mail; its link points at the live server.
    [message] = mailbox.wait_for(1, timeout=30, to=EMAIL)
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == t("Please confirm your e-mail address")
    links = re.findall(r"https?://\S+/confirm/\S+", body_of(message))
    assert len(links) == 1, body_of(message)
    assert links[0].startswith(live_server.url)

    page.goto(links[0])
    page.wait_for_url("**/login")
    expect(page.get_by_role("status")).to_contain_text(
        t("Your e-mail address is confirmed. You can sign in now.")
    )
    assert_accessible(page)

    # Sign in.
    field(page, "email").fill(EMAIL)
    field(page, "password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name=t("Sign in")).click()
    page.wait_for_url("**/start")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Welcome, %(name)s", name="Amira Yilmaz")
    )
    assert_accessible(page)

    # Create the organisation, first with a wrong IBAN.
    page.get_by_role("main").get_by_role("link", name=t("Create an organisation")).click()
    page.wait_for_url("**/organisations/new")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Create an organisation"))
    assert_accessible(page)

    field(page, "name").fill(ORGANISATION)
    field(page, "legal_form").select_option("ev")
    field(page, "register_court").fill("Amtsgericht Köln")
    field(page, "register_number").fill("VR 4711")
    field(page, "street").fill("Friedrich-Ebert-Platz 1")
    field(page, "postcode").fill("51373")
    field(page, "city").fill("Leverkusen")
    field(page, "contact_name").fill("Amira Yilmaz")
    field(page, "contact_email").fill("kontakt@begegnung.example")
    field(page, "account_holder").fill(ORGANISATION)
    field(page, "iban").fill("DE89 3704 0044 0532 0130 01")  # wrong check digits
    save = page.locator("main form").get_by_role("button", name=t("Save"))
    save.click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name=t("Please check your entries"))).to_be_visible()
    expect(summary).to_be_focused()
    error_links = summary.get_by_role("link")
    expect(error_links).to_have_count(1)
    expect(error_links).to_have_attribute("href", "#iban")
    iban = field(page, "iban")
    expect(iban).to_have_attribute("aria-invalid", "true")
    expect(iban).to_have_accessible_description(re.compile(r"\S"))
    assert_accessible(page)

    # The link in the summary leads to the field; every typed value is still there.
    error_links.click()
    expect(iban).to_be_focused()
    expect(iban).to_have_value("DE89 3704 0044 0532 0130 01")
    expect(field(page, "name")).to_have_value(ORGANISATION)
    expect(field(page, "legal_form")).to_have_value("ev")
    expect(field(page, "register_court")).to_have_value("Amtsgericht Köln")
    expect(field(page, "register_number")).to_have_value("VR 4711")
    expect(field(page, "street")).to_have_value("Friedrich-Ebert-Platz 1")
    expect(field(page, "postcode")).to_have_value("51373")
    expect(field(page, "city")).to_have_value("Leverkusen")
    expect(field(page, "contact_name")).to_have_value("Amira Yilmaz")
    expect(field(page, "contact_email")).to_have_value("kontakt@begegnung.example")
    expect(field(page, "account_holder")).to_have_value(ORGANISATION)

    iban.fill("DE89 3704 0044 0532 0130 00")
    save.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(ORGANISATION)
    expect(page.get_by_role("status")).to_contain_text(t("The organisation has been created."))
    main = page.get_by_role("main")
    expect(main).to_contain_text("Amtsgericht Köln VR 4711")
    expect(main).to_contain_text("Friedrich-Ebert-Platz 1, 51373 Leverkusen")
    expect(main).to_contain_text("DE89 3704 0044 0532 0130 00")
    members = page.get_by_role("table", name=t("Members"))
    expect(members.get_by_role("cell", name=EMAIL)).to_be_visible()
    assert_accessible(page)

    # It is listed on the start page and under "Organisations".
    page.get_by_role("navigation").get_by_role("link", name=t("Start")).click()
    expect(page.get_by_role("main").get_by_role("link", name=ORGANISATION)).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name=t("Organisations")).click()
    expect(page.get_by_role("main").get_by_role("link", name=ORGANISATION)).to_be_visible()
    assert_accessible(page)
