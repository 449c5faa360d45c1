"""The case file draws the case's process with bpmn-js, the current step marked, under the CSP."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cases.people import User, issue_token
from engine import clock
from engine.database import make_engine, make_session_factory, unit_of_work
from tests.api.support import report
from tests.browser.conftest import LiveServer
from tests.browser.support import check_accessibility, screenshot, sign_in
from tests.officer.support import ASSESSMENT

# Monday 11 January 2027, 10:00: an ordinary working morning.
MORNING = datetime(2027, 1, 11, 10, 0, tzinfo=UTC)
# Every Content-Security-Policy violation the page meets, whether or not it reaches the console.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def olivias_api(live_server: LiveServer) -> Callable[..., Any]:
    """Call the live app's API as olivia.officer (through its test client: no network)."""
    engine = make_engine(live_server.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            olivia = session.scalars(select(User).where(User.name == "olivia.officer")).one()
            token = issue_token(session, olivia)
    finally:
        engine.dispose()

    def call(method: str, path: str, body: dict[str, Any], status: int = 200) -> Any:
        response = live_server.app.test_client().open(
            path, method=method, headers={"Authorization": f"Bearer {token}"}, json=body)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    return call


@pytest.fixture
def reference(olivias_api) -> str:
    """A hate report in olivia.officer's ward, opened through the API: it waits at assess_risk."""
    clock.set_now(MORNING)  # the live server runs in this process: its clock is this one
    found: str = olivias_api("POST", "/api/v1/cases", report(received_at="2027-01-11T10:00:00"),
                             201)["reference"]
    return found


def test_the_case_file_draws_the_process_with_the_current_step_marked(
        page: Page, reference, artifacts, console):
    page.add_init_script(WATCH_CSP)
    sign_in(page, "olivia.officer")
    page.goto(f"/cases/{reference}")

    diagram = page.locator("#process-diagram")
    expect(diagram).to_be_visible()
    # The drawing is one named image (its container also holds the bpmn.io link).
    drawing = page.get_by_role("img", name=re.compile("^Process diagram: Risk assessment"))
    expect(drawing).to_have_attribute("aria-describedby", "process-steps")
    current = diagram.locator('g.djs-element[data-element-id="assess_risk"]')
    expect(current).to_have_class(re.compile(r"\basb-current\b"))
    expect(diagram.locator('g[data-element-id="risk_assessment_started"]')).to_have_class(
        re.compile(r"\basb-done\b"))
    expect(drawing).to_have_attribute("aria-label", re.compile("current step: Assess the risk"))
    # The text equivalent says the same without the diagram.
    expect(page.locator("#process-steps")).to_contain_text("Now: Assess the risk (due")

    # The view shown first is the deepest stage with work open; "Whole case" shows the
    # parent, where the stage's call activity is the current element.
    views = page.locator("[data-process-views] button")
    expect(views.filter(has_text="Risk assessment (now)")).to_have_attribute(
        "aria-pressed", "true")
    screenshot(page, "case-diagram-1-stage", artifacts)
    views.filter(has_text="Whole case").click()
    expect(diagram.locator('g[data-element-id="call_risk_assessment"]')).to_have_class(
        re.compile(r"\basb-current\b"))
    expect(diagram.locator('g[data-element-id="call_triage"]')).to_have_class(
        re.compile(r"\basb-done\b"))
    expect(diagram.locator('g[data-element-id="report_received"]')).to_have_class(
        re.compile(r"\basb-done\b"))
    expect(views.filter(has_text="Whole case")).to_have_attribute("aria-pressed", "true")

    # A keyboard user moves the drawing with Ctrl and the arrow keys once it has the focus.
    viewport = diagram.locator("g.viewport")
    before = viewport.get_attribute("transform")
    diagram.get_by_role("img", name=re.compile("^Process diagram: Whole case")).focus()
    page.keyboard.press("Control+ArrowLeft")
    expect(viewport).not_to_have_attribute("transform", before)
    screenshot(page, "case-diagram-2-whole-case", artifacts)

    check_accessibility(page, "case-diagram", artifacts)
    assert page.evaluate("window.__cspViolations") == []
    assert console.unexpected() == []


def test_without_javascript_the_list_says_where_the_case_stands(
        browser, live_server: LiveServer, reference, artifacts):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/sign-in")
        page.get_by_label("User name", exact=True).fill("olivia.officer")
        page.get_by_label("Password", exact=True).fill("correct horse battery staple")
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/cases/{reference}")
        expect(page.locator("#process-diagram")).to_be_hidden()
        steps = page.locator("#process-steps")
        expect(steps).to_contain_text("Risk assessment – Now: Assess the risk (due")
        expect(steps.get_by_role("link", name="Assess the risk")).to_be_visible()
        screenshot(page, "case-diagram-3-no-javascript", artifacts)
    finally:
        context.close()


def test_at_first_contact_the_stage_shows_the_deadline_watched(
        page: Page, reference, olivias_api, artifacts, console):
    tasks = olivias_api("GET", f"/api/v1/cases/{reference}/tasks", None)["items"]
    (assess,) = [t for t in tasks if t["name"] == "assess_risk"]
    olivias_api("POST", f"/api/v1/tasks/{assess['id']}/complete", {"data": ASSESSMENT})
    page.add_init_script(WATCH_CSP)
    sign_in(page, "olivia.officer")
    page.goto(f"/cases/{reference}")

    diagram = page.locator("#process-diagram")
    expect(diagram.get_by_role("img", name=re.compile(
        "^Process diagram: First contact. Highlighted as the current step: Make first contact"))
    ).to_be_visible()
    for element, marker in (("first_contact", "asb-current"),
                            ("first_contact_deadline", "asb-watching"),
                            ("first_contact_started", "asb-done"),
                            ("Flow_first_contact_started_first_contact", "asb-done")):
        expect(diagram.locator(f'g[data-element-id="{element}"]')).to_have_class(
            re.compile(rf"\b{marker}\b"))
    steps = page.locator("#process-steps")
    expect(steps).to_contain_text("First contact – Now: Make first contact (due")
    expect(steps).to_contain_text("First contact – Watching: First-contact deadline passed (at")
    screenshot(page, "case-diagram-4-first-contact", artifacts)
    check_accessibility(page, "case-diagram-first-contact", artifacts)
    assert page.evaluate("window.__cspViolations") == []
    assert console.unexpected() == []
