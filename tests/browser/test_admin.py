"""The admin workspace in a real browser: ada.admin adds a user (after a form refused with
errors) and schedules a configuration value; axe-core on the users list, the user form with
errors and the configuration page; the pages fit a phone's width.

The live server is shared by the whole browser session, so this test adds a manager (never
given cases or tasks, so the officer tests' assignments stay as they were), disables them
again, and schedules a setting no other test reads.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from engine import clock
from tests.browser.support import PASSWORD, check_accessibility, screenshot, sign_in

# Tuesday 5 January 2027, 10:00 in Chesterfield (GMT).
MORNING = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)
PHONE = {"width": 375, "height": 740}


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"))


def test_an_admin_adds_a_user_and_schedules_a_setting(page: Page, artifacts, console):
    clock.set_now(MORNING)  # the web server runs in this process: its clock is this one

    # 1. The admin lands on the admin workspace and opens the users list.
    sign_in(page, "ada.admin")
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    page.get_by_role("link", name="Users", exact=True).first.click()
    expect(page.get_by_role("heading", level=1, name="Users")).to_be_visible()
    expect(page.get_by_role("link", name="Olivia Officer")).to_be_visible()
    check_accessibility(page, "admin-1-users", artifacts)
    screenshot(page, "admin-1-users", artifacts)

    # 2. The form sent half-filled: every problem listed, what was typed kept.
    page.get_by_role("button", name="Add a user").click()
    expect(page.get_by_role("heading", level=1, name="Add a user")).to_be_visible()
    page.get_by_label("User name").fill("nina new")
    page.get_by_label("Email address (optional)").fill("not-an-email")
    page.get_by_role("button", name="Add user").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()  # GOV.UK Frontend moves the focus to the summary
    for message in ("User name must be 2 to 64 letters", "Enter the person's full name",
                    "Enter an email address in the correct format", "Select the user's role",
                    "Select a team"):
        expect(summary).to_contain_text(message)
    expect(page.get_by_label("User name")).to_have_value("nina new")
    assert page.title().startswith("Error: ")
    check_accessibility(page, "admin-2-user-form-errors", artifacts)
    screenshot(page, "admin-2-user-form-errors", artifacts)

    # 3. Corrected and sent: the user is added and listed.
    page.get_by_label("User name").fill("nina.new")
    page.get_by_label("Full name").fill("Nina Newcomer")
    page.get_by_label("Email address (optional)").fill("nina@council.example.org")
    page.get_by_label("Manager", exact=True).check()
    page.get_by_label("Team", exact=True).select_option(label="North team")
    page.get_by_label("Walton").check()
    page.get_by_label("Password (optional)").fill(PASSWORD)
    page.get_by_role("button", name="Add user").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Nina Newcomer (nina.new) was added")
    row = page.locator("tr", has_text="nina.new")
    expect(row).to_contain_text("Manager")
    expect(row).to_contain_text("North team")
    expect(row).to_contain_text("Walton")
    expect(row).to_contain_text("Can sign in")

    # 4. On a phone the list scrolls inside its own box, never the page.
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    screenshot(page, "admin-3-users-phone", artifacts)
    page.set_viewport_size({"width": 1280, "height": 900})

    # 5. The configuration: a new value scheduled from a later date; the one in force stays.
    page.goto("/admin/configuration")
    expect(page.get_by_role("heading", level=1, name="Configuration")).to_be_visible()
    check_accessibility(page, "admin-4-configuration", artifacts)
    screenshot(page, "admin-4-configuration", artifacts)
    page.get_by_role("link", name="History and changes for homes owned").click()
    expect(page.get_by_role("heading", level=1, name="Homes owned")).to_be_visible()
    page.get_by_label("New value").fill("12000")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("4")
    page.get_by_label("Year").fill("2027")
    page.get_by_label("Reason for the change (optional)").fill("Stock count at year end")
    page.get_by_role("button", name="Schedule value").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "the new value takes effect on 1 April 2027")
    scheduled = page.get_by_role("row", name=re.compile(r"^1 April 2027, 00:00"))
    expect(scheduled).to_contain_text("12000")
    expect(scheduled).to_contain_text("Scheduled")
    expect(scheduled).to_contain_text("ada.admin")
    expect(page.locator("tr", has_text="The default")).to_contain_text("In force")
    check_accessibility(page, "admin-5-setting", artifacts)
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    screenshot(page, "admin-5-setting-phone", artifacts)

    # 6. The new user is disabled again, with a reason.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/users")
    page.get_by_role("link", name="Nina Newcomer").click()
    page.get_by_role("link", name="Disable user").click()
    page.get_by_label("Why are you disabling this user?").fill("Added by the browser test")
    page.get_by_role("button", name="Disable user").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Nina Newcomer (nina.new) is disabled")
    expect(page.locator("tr", has_text="nina.new")).to_contain_text("Disabled")
    assert console.unexpected() == []
