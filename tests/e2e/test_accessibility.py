"""Every page passes axe (WCAG 2.1 A/AA) in German and in English, signed out and signed in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from grants.extensions import db
from tests.e2e.conftest import assert_accessible, field, sign_in
from tests.factories import (
    CallFactory,
    InvitationFactory,
    MembershipFactory,
    SubmittedApplicationFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e

PUBLIC_PAGES = [
    ("/", 200),
    ("/login", 200),
    ("/register", 200),
    ("/password/forgot", 200),
    ("/confirm", 200),
    ("/imprint", 200),
    ("/privacy", 200),
    ("/accessibility", 200),
    ("/verify", 200),
    ("/no-such-page", 404),
]
LANGUAGE_BUTTON = {"en": "English", "de": "Deutsch"}


def switch_language(page: Page, locale: str) -> None:
    """Press the language button in the header and wait for the page in that language."""
    page.get_by_role("banner").get_by_role("button", name=LANGUAGE_BUTTON[locale]).click()
    expect(page.locator("html")).to_have_attribute("lang", locale)


@pytest.mark.parametrize("path,status", PUBLIC_PAGES, ids=[p for p, _ in PUBLIC_PAGES])
def test_public_page_in_german_and_english(page: Page, t, path: str, status: int):
    response = page.goto(path)
    assert response.status == status
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    # Each title names its page in words (WCAG 2.4.2), e.g. "Page not found (404) – …".
    expect(page).to_have_title(re.compile(r"^[^\d\s–][^–]* – "))
    assert_accessible(page)

    switch_language(page, "en")
    assert page.url.endswith(path)
    expect(page.get_by_role("link", name="Skip to main content")).to_be_attached()
    assert_accessible(page)


def test_language_choice_sticks_until_switched_back(page: Page, t):
    page.goto("/")
    switch_language(page, "en")
    page.get_by_role("contentinfo").get_by_role("link", name="Imprint").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Imprint")
    switch_language(page, "de")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Imprint"))


def test_forms_with_validation_errors_signed_out(page: Page, t):
    page.goto("/register")
    page.locator("main form").get_by_role("button", name=t("Create account")).click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name=t("Please check your entries"))).to_be_visible()
    expect(field(page, "email")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "privacy")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    page.goto("/login")
    field(page, "email").fill("niemand@example.org")
    field(page, "password").fill("falsch-falsch-falsch")
    page.locator("main form").get_by_role("button", name=t("Sign in")).click()
    expect(page.get_by_role("alert")).to_contain_text(t("E-mail address or password is wrong."))
    assert_accessible(page)


ROLES = ["applicant", "staff", "approver", "finance", "admin"]
START_SECTION = {
    "applicant": "Your organisations",
    "staff": "Case work",
    "approver": "Sign-off",
    "finance": "Finance",
    "admin": "Administration",
}


@pytest.mark.parametrize("role", ROLES)
def test_start_page_for_each_role(page: Page, t, role: str):
    user = UserFactory(roles=[role])
    if role == "applicant":
        MembershipFactory(user=user)
    db.session.commit()

    sign_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Welcome, %(name)s", name=user.full_name)
    )
    expect(page.get_by_role("region", name=t(START_SECTION[role]))).to_be_visible()
    assert_accessible(page)

    switch_language(page, "en")
    assert_accessible(page)


def test_organisation_page_with_members_and_invitations(page: Page, t):
    admin = UserFactory(full_name="Amira Yilmaz")
    membership = MembershipFactory(user=admin)
    organisation = membership.organisation
    MembershipFactory(
        organisation=organisation, user=UserFactory(full_name="Jonas Becker"), is_admin=False
    )
    InvitationFactory(organisation=organisation, invited_by=admin, email="neu@example.org")
    db.session.commit()

    sign_in(page, admin.email)
    page.goto(f"/organisations/{organisation.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(organisation.name)
    expect(page.get_by_role("region", name=t("Members"))).to_have_attribute("tabindex", "0")
    members = page.get_by_role("table", name=t("Members"))
    expect(members.get_by_role("row")).to_have_count(3)
    expect(
        members.get_by_role("button", name=t("Remove %(name)s", name="Jonas Becker"))
    ).to_be_visible()
    expect(
        page.get_by_role(
            "button", name=t("Withdraw invitation to %(email)s", email="neu@example.org")
        )
    ).to_be_visible()
    assert_accessible(page)

    # The invite form with an error: summary, inline message, the field marked invalid.
    invite = field(page, "email")
    invite.fill("keine-adresse")
    page.get_by_role("button", name=t("Send invitation")).click()
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#email")
    expect(field(page, "email")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "email")).to_have_value("keine-adresse")
    assert_accessible(page)

    page.goto("/organisations/")
    assert_accessible(page)
    page.goto(f"/organisations/{organisation.id}/edit")
    assert_accessible(page)

    switch_language(page, "en")
    page.goto(f"/organisations/{organisation.id}")
    assert_accessible(page)


def test_admin_staff_list_and_create_form(page: Page, t):
    admin = UserFactory(roles=["admin"], full_name="Adrian Weber")
    UserFactory(roles=["staff", "approver"], full_name="Sabine Schmitz")
    db.session.commit()

    sign_in(page, admin.email)
    page.get_by_role("navigation").get_by_role("link", name=t("Staff accounts")).click()
    table = page.get_by_role("table", name=t("Staff accounts"))
    expect(table.get_by_role("link", name="Sabine Schmitz")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=t("Create a staff account")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Create a staff account"))
    assert_accessible(page)

    # Sent empty: errors for name, e-mail and roles.
    page.locator("main form").get_by_role("button", name=t("Create account")).click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(3)
    expect(page.get_by_role("group", name=t("Roles"))).to_be_visible()
    assert_accessible(page)

    page.goto("/admin/users")
    table = page.get_by_role("table", name=t("Staff accounts"))
    table.get_by_role("link", name="Sabine Schmitz").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sabine Schmitz")
    assert_accessible(page)

    switch_language(page, "en")
    assert_accessible(page)
    page.goto("/admin/users/new")
    assert_accessible(page)


def test_queue_search_past_the_count_limit(page: Page, t, monkeypatch):
    """The uncounted search (see SEARCH_COUNT_LIMIT) pages on without numbers."""
    monkeypatch.setattr("grants.reviews.queue.SEARCH_COUNT_LIMIT", 2)
    call = CallFactory()
    for number in range(3):
        SubmittedApplicationFactory(call=call, title=f"Sprachcafé {number}")
    staff = UserFactory(roles=["staff"])
    db.session.commit()

    sign_in(page, staff.email)
    page.goto("/review?q=sprachcaf")
    status_bar = page.get_by_role("navigation", name=t("Applications by status"))
    expect(status_bar.get_by_role("link", name=t("All"), exact=False)).to_contain_text(
        t("more than %(limit)s", limit=2)
    )
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(4)
    assert_accessible(page)

    page.goto("/review?q=sprachcaf&page=2")
    expect(page.get_by_role("link", name=t("Back to the first page"))).to_be_visible()
    assert_accessible(page)

    switch_language(page, "en")
    assert_accessible(page)


def test_skip_link_leads_to_the_main_content(page: Page, t):
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=t("Skip to main content"))
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


def assert_no_sideways_scrolling(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def test_narrow_screen_without_horizontal_scrolling(page: Page, t):
    """WCAG 1.4.10 at 320 CSS pixels: only tables scroll, inside a keyboard-focusable region.

    A plain member's members table has no buttons, so without the focusable region
    keyboard users could not scroll it (axe: scrollable-region-focusable).
    """
    admin = UserFactory(roles=["applicant", "admin"], full_name="Amira Yilmaz")
    membership = MembershipFactory(user=admin)
    organisation = membership.organisation
    member = MembershipFactory(organisation=organisation, is_admin=False).user
    UserFactory(roles=["staff", "finance"])
    db.session.commit()
    page.set_viewport_size({"width": 320, "height": 720})

    sign_in(page, admin.email)
    for path in [
        "/start",
        f"/organisations/{organisation.id}",
        f"/organisations/{organisation.id}/edit",
        "/admin/users",
        "/admin/users/new",
    ]:
        page.goto(path)
        assert_no_sideways_scrolling(page)
        assert_accessible(page)

    page.context.clear_cookies()
    sign_in(page, member.email)
    page.goto(f"/organisations/{organisation.id}")
    expect(page.get_by_role("table", name=t("Members")).get_by_role("button")).to_have_count(0)
    assert_no_sideways_scrolling(page)
    assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 320])
def test_queue_controls_are_as_wide_as_their_labels(page: Page, width: int):
    """The filter fields and the assignment buttons of the queue are not squeezed (KERN's
    12-column grid and its icon-button rule once shrank them below their text), and the page
    does not scroll sideways."""
    SubmittedApplicationFactory(call=CallFactory(), title="Sprachcafé Opladen")
    staff = UserFactory(roles=["staff"])
    db.session.commit()
    page.set_viewport_size({"width": width, "height": 900})

    sign_in(page, staff.email)
    page.goto("/review")
    assert_accessible(page)  # which also checks that every button fits its label
    assert_no_sideways_scrolling(page)  # only the table scrolls, inside its region
    for select in page.locator("main form[method=get] select").all():
        assert select.bounding_box()["width"] >= min(200, width - 60)
