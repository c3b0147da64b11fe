"""Browser fixtures: Debian's Chromium driven by Playwright, and axe for accessibility checks.

Never download a browser: Playwright is pointed at /usr/bin/chromium.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from flask_babel import force_locale, gettext
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "resultTypes": ["violations"],
}
TIMEOUT_MS = 10_000

_axe = Axe()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    """A fresh browser profile per test: no cookies, German browser locale.

    The app's Content-Security-Policy allows only scripts from 'self'; bypass_csp lets axe
    be injected. The page itself still receives the header unchanged.
    """
    context = browser.new_context(
        base_url=live_server.url,
        locale="de-DE",
        bypass_csp=True,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A new tab in the test's own browser context."""
    return context.new_page()


@pytest.fixture
def served_app(live_server) -> Flask:
    """The Flask app the browser talks to (for translating expected texts)."""
    return live_server.server.app


@pytest.fixture
def t(served_app: Flask):
    """t(msgid, locale="de", **values): the text the app shows for msgid in that locale.

    The German catalogue is still being filled; asking the served app's own translations keeps
    the tests valid whether a German string exists yet or the English msgid is shown.
    """

    def translate(msgid: str, locale: str = "de", **values) -> str:
        with served_app.test_request_context(), force_locale(locale):
            return gettext(msgid, **values)

    return translate


def format_violations(violations: list[dict]) -> str:
    """A readable list: rule id, impact, target selectors, help."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact') or 'n/a'}): {violation['help']}"
            f"\n  {violation.get('helpUrl', '')}"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    * {target}")
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Run axe (WCAG 2.0/2.1 A and AA) on the current page; fail with a list of violations.
    Also fail when a button's visible label is wider than the button itself,
    which axe does not see (text spilling over its neighbours)."""
    page.wait_for_load_state("load")
    results = _axe.run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    if violations:
        pytest.fail(
            f"{len(violations)} accessibility violation(s) on {page.url}:\n"
            + format_violations(violations),
            pytrace=False,
        )
    assert_buttons_fit_their_labels(page)


def assert_buttons_fit_their_labels(page: Page) -> None:
    """Every visible button in the main content is at least as wide as its visible label."""
    squeezed = page.evaluate(
        """() => [...document.querySelectorAll('main .kern-btn')]
            .filter(button => button.offsetParent !== null)
            .filter(button => {
                const label = button.querySelector('.kern-label') || button;
                return label.scrollWidth > button.getBoundingClientRect().width + 1;
            })
            .map(button => button.textContent.trim().replace(/\\s+/g, ' '))"""
    )
    assert squeezed == [], f"{page.url}: buttons narrower than their labels: {squeezed}"


def field(page: Page | Locator, field_id: str) -> Locator:
    """The form control with this id, found through its visible label.

    Reading the label's text and locating by it proves that the label is tied to the control
    while staying independent of the wording (and of the translation state).
    """
    label = page.locator(f'label[for="{field_id}"]')
    expect(label).to_have_count(1)
    text = " ".join(label.inner_text().split())
    control = page.get_by_label(text, exact=True)
    expect(control).to_have_attribute("id", field_id)
    return control


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait for the start page."""
    page.goto("/login")
    field(page, "email").fill(email)
    field(page, "password").fill(password)
    page.locator("main form").get_by_role("button").click()
    page.wait_for_url("**/start")
