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

    assert console.unexpected() == []
