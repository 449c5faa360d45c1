"""The manager's dashboard in Chromium: a breached case shows, links to its list, and prints.

Two hate reports from Staveley North: February's reporter is called the same day; March's
(Monday 1 March 2027) is not contacted by its deadline (Tuesday 17:00). On Wednesday morning
the manager opens the dashboard for that ward, sees the breach in the headline and in the
promise 2 table, follows it to the case, and prints the page. axe-core and a screenshot at
each page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine import clock
from engine.models import HumanTask, TaskStatus
from tasks import cases_service
from tests.browser.support import check_accessibility, screenshot, sign_in
from tests.lifecycle_support import make_report
from web.extensions import unit

FEBRUARY = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)
MONDAY = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
WEDNESDAY = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
WARD = "Staveley North"


def _report(n: int, at: datetime) -> dict[str, Any]:
    return make_report(
        reporter={"name": f"Sally Staveley {n}", "email": f"sally{n}@example.org",
                  "address": f"{n} Market Street, Staveley S43 3AB",
                  "contact_preferences": {"channels": ["email"]}},
        incident={"occurred_at": (at - timedelta(hours=12)).isoformat(),
                  "location": "5 Market Street, Staveley S43 3AB",
                  "description": "Racist abuse shouted at my door", "category": "personal",
                  "hate_strands": ["race"]})


def _complete(session: Any, engine: Any, reference: str, name: str, data: dict[str, Any]
              ) -> None:
    task = session.scalars(select(HumanTask).where(
        HumanTask.business_key == reference, HumanTask.name == name,
        HumanTask.state == TaskStatus.OPEN)).one()
    engine.complete(session, task.id, data, task.assignee)


def _cases_in_the_ward(live_server: Any) -> str:
    """February's report contacted in time; March's breached (its timers fired)."""
    app = live_server.app
    engine = app.extensions["asb"]["engine"]
    clock.set_now(FEBRUARY)
    with app.app_context(), unit() as session:
        kept = cases_service.open_case(session, engine, _report(1, FEBRUARY), actor="api",
                                       received_at=FEBRUARY).reference
        _complete(session, engine, kept, "assess_risk", {"harm": "high",
                                                         "community_impact": "medium"})
        _complete(session, engine, kept, "first_contact", {
            "contacted_at": FEBRUARY.isoformat(), "method": "phone", "summary": "Called"})
    clock.set_now(MONDAY)
    with app.app_context(), unit() as session:
        case = cases_service.open_case(session, engine, _report(2, MONDAY), actor="api",
                                       received_at=MONDAY)
        assert (case.priority, case.area) == (1, WARD)
        reference: str = case.reference
    clock.set_now(WEDNESDAY)
    with app.app_context(), unit() as session:
        while engine.fire_due_timers(session, limit=100):
            pass
    return reference


def test_a_manager_sees_a_breached_case_and_follows_it(page: Page, live_server, artifacts,
                                                       console):
    reference = _cases_in_the_ward(live_server)
    sign_in(page, "mina.manager")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.get_by_label("Area", exact=True).select_option(WARD)
    page.get_by_role("button", name="Show figures").click()
    expect(page).to_have_url(re.compile(r"area=Staveley\+North"))

    headline = page.locator(".manager-headline__item--alert")
    expect(headline).to_contain_text("1")
    expect(headline).to_contain_text("breaching first contact now")
    p1 = page.locator('table[data-figure="first_contact_now"] tbody tr').first
    expect(p1.locator("th")).to_have_text("Priority 1")
    expect(p1.locator("td a")).to_have_text(re.compile(r"^1 – list the cases"))
    expect(p1.locator("td").last).to_have_text("0")
    expect(page.get_by_role("img", name="First contact on time, by month received")
           ).to_be_visible()
    expect(page.get_by_role("img", name="Hate cases by strand")).to_be_visible()
    trend = page.locator('table[data-figure="first_contact"] tbody tr')
    expect(trend.filter(has_text="Feb 2027").locator("td").nth(2)).to_have_text("100.0")
    expect(trend.filter(has_text="Mar 2027").locator("td").nth(2)).to_have_text("0.0")
    check_accessibility(page, "manager-dashboard", artifacts)
    screenshot(page, "manager-dashboard", artifacts)
    page.locator("#figure-first_contact svg").screenshot(
        path=str(artifacts / "manager-dashboard-trend-chart.png"))

    headline.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Open cases waiting for first contact")
    rows = page.locator("table[data-list] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(reference)
    expect(rows.first).to_contain_text("2 March 2027, 17:00")     # the deadline it missed
    check_accessibility(page, "manager-dashboard-cases", artifacts)
    screenshot(page, "manager-dashboard-cases", artifacts)

    page.get_by_role("link", name="Back to the dashboard").click()
    page.emulate_media(media="print")
    expect(page.locator(".manager-filters")).to_be_hidden()
    expect(page.get_by_role("img", name="First contact on time, by month received")
           ).to_be_visible()
    screenshot(page, "manager-dashboard-print", artifacts)
    assert console.unexpected() == []
