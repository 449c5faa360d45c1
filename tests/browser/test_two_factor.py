"""Two-factor sign-in in a real browser: set up the app from the QR page, then sign in with a
code; the pages pass axe-core and load no blocked inline content (CSP).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Page, expect

from engine import clock
from tests.browser.support import PASSWORD, check_accessibility, screenshot


@pytest.fixture
def two_factor_on(live_server) -> Iterator[None]:
    """Ask for the code step on the shared server for this test only."""
    live_server.app.config["ASB_REQUIRE_TOTP"] = True
    try:
        yield
    finally:
        live_server.app.config["ASB_REQUIRE_TOTP"] = False


def password_step(page: Page, name: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("User name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_manager_sets_up_two_factor_then_signs_in_with_a_code(
        page: Page, two_factor_on, artifacts, console):
    clock.set_now(clock.now())  # one time for the page and the "phone" alike
    password_step(page, "mina.manager")
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.locator("svg.segno")).to_be_visible()
    check_accessibility(page, "two-factor-set-up", artifacts)
    screenshot(page, "two-factor-set-up", artifacts)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(8)
    check_accessibility(page, "two-factor-recovery-codes", artifacts)
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    clock.set_now(clock.now() + timedelta(seconds=30))
    password_step(page, "mina.manager")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    check_accessibility(page, "two-factor-code-wrong", artifacts)
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert console.unexpected() == []
