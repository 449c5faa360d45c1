"""An officer's day in a real browser, on the agreed addresses and labels of the officer pages.

The journey: sign in -> take a hate report by phone at /reports/new -> the contact task is in
the inbox, due the next working day -> triage (assess_risk) and first contact through the task
forms (/tasks/<id>, "Save draft" / "Complete task") -> a photo uploaded on the case file
(/cases/<reference>) -> all of it on the case timeline. Each page type gets axe-core and a
screenshot. The steps are written as far as the officer pages exist in this tree.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from engine import clock
from tests.browser.support import check_accessibility, screenshot, sign_in_by_keyboard

# A 1x1 PNG, built here so the test carries no binary file.
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08"
       b"\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?"
       b"\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

# Tuesday 5 January 2027, 10:00 in Chesterfield (GMT): the next working day is Wednesday 6th.
MORNING = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)


def test_an_officer_takes_a_phone_report_and_works_it_through_first_contact(
        page: Page, artifacts, console):
    clock.set_now(MORNING)  # the web server runs in this process: its clock is this one

    # 1. Sign in with the keyboard alone; the officer lands in the inbox.
    sign_in_by_keyboard(page, "olivia.officer")
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()
    check_accessibility(page, "journey-1-inbox-empty", artifacts)
    screenshot(page, "journey-1-inbox-empty", artifacts)

    # 2. A hate report taken by phone.
    page.goto("/reports/new")
    check_accessibility(page, "journey-2-new-report", artifacts)
    page.get_by_label("Phone", exact=True).first.check()
    page.get_by_label("Full name").fill("Rita Reporter")
    page.get_by_label("Phone number", exact=True).fill("07700 900123")
    page.locator("#incident_day").fill("4")
    page.locator("#incident_month").fill("1")
    page.locator("#incident_year").fill("2027")
    page.get_by_label("Time (24-hour, HH:MM)").fill("21:30")
    page.get_by_label("Where did it happen?").fill("14 Mill Lane, Chesterfield")
    page.get_by_label("Postcode (if known)").fill("S40 1AB")
    page.get_by_label("What happened?").fill("Racist abuse shouted at my door")
    page.get_by_label("Personal").check()
    page.get_by_label("Race").check()
    screenshot(page, "journey-2-new-report", artifacts)
    page.get_by_role("button", name="Open the case").click()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("priority 1")
    reference = re.search(r"ASB-\d{4}-\d{6}", banner.inner_text()).group(0)

    # 3. The inbox: the officer's first task on it, due the next working day (Wed 6 Jan).
    page.goto("/inbox")
    row = page.locator("tr", has_text=reference).first
    expect(row).to_contain_text("6 January 2027")
    screenshot(page, "journey-3-inbox", artifacts)
    check_accessibility(page, "journey-3-inbox", artifacts)

    # 4. Triage: the officer's risk assessment, a draft first, then completed.
    row.get_by_role("link").filter(has_text="Assess").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Assess the risk")
    page.locator("input[name='harm'][value='high']").check()
    page.locator("input[name='community_impact'][value='medium']").check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("draft was saved")
    page.reload()
    expect(page.locator("input[name='harm'][value='high']")).to_be_checked()
    screenshot(page, "journey-4-task-form", artifacts)
    check_accessibility(page, "journey-4-task-form", artifacts)
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Make first contact")

    # 5. First contact, through its form.
    page.goto("/inbox")
    page.locator("tr", has_text=reference).get_by_role("link").filter(
        has_text="first contact").first.click()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Complete task"))
    for name, value in (("day", "5"), ("month", "1"), ("year", "2027")):
        form.locator(f"input[name$='{name}']").first.fill(value)
    form.locator("input[name$='time']").first.fill("10:00")
    form.locator("input[name='method'][value='phone']").check()
    form.locator("textarea[name='summary']").fill("Called the reporter; diary sheets agreed")
    page.get_by_role("button", name="Complete task").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "“Make first contact” on case")

    page.goto("/inbox")
    expect(page.locator("tr", has_text=reference).first).to_contain_text("action plan")

    # 6. A photo of the door on the case file.
    page.goto(f"/cases/{reference}")
    page.get_by_role("link", name="Add evidence").click()
    page.locator("input[name='kind'][value='photo']").check()
    page.get_by_label("File").set_input_files(
        {"name": "door.png", "mimeType": "image/png", "buffer": PNG})
    page.get_by_role("button", name="Add evidence").click()

    # 7-8. All of it on the case file and its timeline.
    expect(page).to_have_url(re.compile(rf"/cases/{reference}"))
    timeline = page.locator("#timeline")
    for event in ("door.png", "Assess the risk", "Make first contact", "Racist abuse"):
        expect(timeline).to_contain_text(event)
    screenshot(page, "journey-5-case-file", artifacts)
    check_accessibility(page, "journey-5-case-file", artifacts)
    assert console.unexpected() == []

