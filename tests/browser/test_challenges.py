"""ASB Case Review and complaint pages in Chromium, with axe-core, error states included.

A team leader records a complaint taken on the phone, is shown the refused form first, then
follows the complaint; an officer records a Case Review application with a case reference.
"""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from engine import clock
from tests.browser.support import check_accessibility, screenshot, sign_in

MORNING = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)


def test_a_team_leader_records_a_complaint_and_follows_it(page: Page, live_server, artifacts,
                                                          console):
    clock.set_now(MORNING)
    sign_in(page, "tara.leader")
    page.get_by_role("link", name="Complaints").click()
    page.get_by_role("link", name="Record a complaint").click()
    page.get_by_label("Full name").fill("Ann Applicant")
    page.get_by_role("button", name="Record the complaint").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter what the complaint is about")
    expect(page.get_by_label("Full name")).to_have_value("Ann Applicant")
    check_accessibility(page, "complaint-new-errors", artifacts)
    screenshot(page, "complaint-new-errors", artifacts)

    page.get_by_label("Phone number").fill("07700 900123")
    page.get_by_label("What is the complaint about?").fill("Nobody called me back.")
    page.get_by_role("button", name="Record the complaint").click()
    expect(page.locator("h1")).to_have_text("CMP-2027-0001")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("recorded")
    expect(page.get_by_role("link", name="Acknowledge the complaint")).to_be_visible()
    check_accessibility(page, "complaint", artifacts)
    screenshot(page, "complaint", artifacts)
    page.get_by_role("link", name="Complaints").first.click()
    expect(page.get_by_role("link", name="CMP-2027-0001")).to_be_visible()
    check_accessibility(page, "complaints", artifacts)
    assert console.unexpected() == []


def test_an_officer_records_a_case_review_application(page: Page, live_server, artifacts,
                                                      console):
    clock.set_now(MORNING)
    sign_in(page, "olivia.officer")
    page.get_by_role("link", name="New report").click()
    page.get_by_role("link", name="Record a Case Review application").click()
    page.get_by_label("Full name").fill("Cllr Jones")
    page.get_by_label("Email address").fill("jones@example.org")
    page.get_by_label("A councillor or MP").check()
    page.get_by_label("What is the problem, and why are they asking for a review?").fill(
        "Residents report drug dealing in the park all year.")
    page.locator("#other_made_to_0-2").check()  # reported to the police
    page.locator("#other_occurred_0").fill("31/02/2026")
    page.get_by_role("button", name="Record the application").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the date of the behaviour as day/month/year")
    check_accessibility(page, "case-review-new-errors", artifacts)
    screenshot(page, "case-review-new-errors", artifacts)
    page.locator("#other_occurred_0").fill("1/12/2026")
    page.locator("#other_reported_0").fill("2/12/2026")
    page.get_by_label("Where does it happen?").fill("Queen's Park, Chesterfield S40 2LD")
    page.get_by_role("button", name="Record the application").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Case Review application CR-2027-0001 recorded")
    expect(page).to_have_url(live_server.at("/inbox"))
    assert console.unexpected() == []
