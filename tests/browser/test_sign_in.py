"""Signing in and out in a real browser, by keyboard alone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.support import (
    check_accessibility,
    screenshot,
    sign_in,
    sign_in_by_keyboard,
    tab_to,
)


def test_the_skip_link_comes_first_and_moves_the_focus_to_the_content(page: Page):
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_an_officer_signs_in_by_keyboard_only_and_lands_in_the_inbox(page: Page, artifacts,
                                                                    console):
    page.goto("/sign-in")
    assert page.title().startswith("Sign in – ")
    check_accessibility(page, "sign-in", artifacts)
    screenshot(page, "sign-in", artifacts)
    presses = tab_to(page, "#user_name")
    assert presses <= 6, f"the user name field is {presses} presses of Tab away"
    page.keyboard.type("olivia.officer")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show password")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/inbox$"))
    expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()
    expect(page.get_by_text("Signed in as Olivia Officer (officer)")).to_be_visible()
    assert any(c["name"] == "asb_session" and c["secure"] and c["httpOnly"]
               for c in page.context.cookies())
    # GOV.UK Frontend's module loaded under the CSP and started the components.
    assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    assert console.unexpected() == []


def test_enter_in_the_password_field_submits_the_form(page: Page):
    sign_in_by_keyboard(page, "tara.leader")
    expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()


def test_a_wrong_password_shows_the_error_summary_and_keeps_the_name(page: Page, artifacts):
    sign_in_by_keyboard(page, "omar.officer", "not the password")
    assert page.title().startswith("Error: Sign in")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # GOV.UK Frontend moves the focus to the summary
    expect(summary.get_by_role("link", name="Enter a correct user name and password")
           ).to_have_attribute("href", "#user_name")
    expect(page.get_by_label("User name", exact=True)).to_have_value("omar.officer")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    check_accessibility(page, "sign-in-wrong-password", artifacts)
    screenshot(page, "sign-in-wrong-password", artifacts)
    # The summary's link takes the keyboard user to the field to correct.
    summary.get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("User name", exact=True)).to_be_focused()


def test_an_empty_form_names_each_missing_field(page: Page):
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link", name="Enter your user name")).to_be_visible()
    expect(summary.get_by_role("link", name="Enter your password")).to_be_visible()


def test_sign_out_ends_the_session(page: Page, artifacts):
    sign_in(page, "olivia.officer")
    sign_out = page.get_by_role("button", name="Sign out")
    sign_out.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    screenshot(page, "signed-out", artifacts)
    assert not any(c["name"] == "asb_session" and "uid" in c["value"]
                   for c in page.context.cookies())
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=(/|%2F)inbox$"))
