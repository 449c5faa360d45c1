"""A reporter's journey on a phone-sized screen: public form -> case page -> Case Review.

Each page gets axe-core and a screenshot; the private code is read from the confirmation page
and the reporter's case page is reached again by reference and code, as they would later.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from engine import clock
from tests.browser.support import check_accessibility, screenshot

MORNING = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)


def test_a_reporter_reports_online_follows_the_case_and_asks_for_a_case_review(
        page: Page, artifacts, console):
    clock.set_now(MORNING)
    page.set_viewport_size({"width": 390, "height": 844})

    # 1. The public form, with no account; a first try with nothing filled in.
    page.goto("/report")
    expect(page.get_by_role("heading", level=1)).to_have_text("Report anti-social behaviour")
    check_accessibility(page, "reporter-1-form", artifacts)
    page.get_by_role("button", name="Send report").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Enter what happened")
    check_accessibility(page, "reporter-1-form-errors", artifacts)
    screenshot(page, "reporter-1-form-errors", artifacts)

    # 2. Filled in properly: named, by e-mail.
    page.get_by_label("Full name").fill("Rita Reporter")
    page.get_by_label("Email address").fill("rita@example.org")
    page.locator("#incident_day").fill("4")
    page.locator("#incident_month").fill("1")
    page.locator("#incident_year").fill("2027")
    page.get_by_label("Time (24-hour, HH:MM)").fill("21:30")
    page.get_by_label("Where did it happen?").fill("14 Mill Lane, Chesterfield")
    page.get_by_label("What happened?").fill("Loud music and shouting every night")
    page.get_by_label("Nuisance").check()
    page.get_by_label("Name of the reported person").fill("Derek Noisy")
    page.get_by_role("button", name="Send report").click()

    # 3. The confirmation: reference and code.
    expect(page.get_by_role("heading", level=1)).to_have_text("Report sent")
    reference = page.locator("#case-reference").inner_text()
    code = page.locator("#follow-up-code").inner_text()
    assert re.fullmatch(r"ASB-\d{4}-\d{6}", reference) and re.fullmatch(r"\w{5}-\w{5}", code)
    check_accessibility(page, "reporter-2-confirmation", artifacts)
    screenshot(page, "reporter-2-confirmation", artifacts)

    # 4. Leave, then come back with the reference and code.
    page.get_by_role("link", name="Go to your case page").click()
    page.get_by_role("button", name="Leave your case page").click()
    expect(page).to_have_url(re.compile(r"/follow$"))
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("Follow-up code").fill(code)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/my-case$"))
    expect(page.locator("#case-reference")).to_have_text(reference)
    expect(page.locator("#case-officer")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Derek Noisy")
    check_accessibility(page, "reporter-3-case-page", artifacts)
    screenshot(page, "reporter-3-case-page", artifacts)

    # 5. Ask for an ASB Case Review.
    page.get_by_role("link", name="Ask for an ASB Case Review").click()
    check_accessibility(page, "reporter-4-case-review", artifacts)
    page.get_by_label("Why are you asking for a Case Review?").fill(
        "I have reported this four times and nothing has changed")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Thank you")
    page.get_by_role("link", name=re.compile("Back to your case")).click()
    expect(page.locator("#sent")).to_contain_text("An application for an ASB Case Review")
    expect(page.locator("body")).to_contain_text(re.compile(r"ASB Case Review CR-\d{4}-\d{4}"))
    screenshot(page, "reporter-5-after-review", artifacts)
    assert console.unexpected() == []
