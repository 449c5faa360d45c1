"""A manager in real Chromium: finds a breached case's instance, sees its token, reassigns.

mina.manager filters the process instances to overdue first contacts, opens the breached
case's instance, sees the token on "Make first contact" in the bpmn-js diagram (and the
deadline watched), is refused a reassignment without a reason, then gives the task to Omar;
the task is Omar's. axe-core runs on each page; no console error or CSP violation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cases.people import User, issue_token
from engine import clock
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.models import HumanTask, ProcessInstance, TaskStatus
from tests.api.support import report
from tests.browser.conftest import LiveServer
from tests.browser.support import check_accessibility, screenshot, sign_in
from tests.officer.support import ASSESSMENT

# Monday 18 January 2027, 10:00: a hate report, priority 1, first contact due Tuesday 17:00.
MONDAY = datetime(2027, 1, 18, 10, 0, tzinfo=UTC)
THURSDAY = datetime(2027, 1, 21, 9, 0, tzinfo=UTC)
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""


def _session(live_server: LiveServer) -> Any:
    return unit_of_work(make_session_factory(make_engine(live_server.database_url)))


@pytest.fixture
def breached(live_server: LiveServer) -> tuple[str, int]:
    """A case olivia.officer assessed but never contacted: its deadline passed on Tuesday."""
    clock.set_now(MONDAY)  # the live server runs in this process: its clock is this one
    with _session(live_server) as session:
        olivia = session.scalars(select(User).where(User.name == "olivia.officer")).one()
        token = issue_token(session, olivia)
    client = live_server.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/cases", headers=headers,
                          json=report(received_at="2027-01-18T10:00:00"))
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    tasks = client.get(f"/api/v1/cases/{reference}/tasks", headers=headers).get_json()["items"]
    (assess,) = [t for t in tasks if t["name"] == "assess_risk"]
    done = client.post(f"/api/v1/tasks/{assess['id']}/complete", headers=headers,
                       json={"data": ASSESSMENT})
    assert done.status_code == 200, done.get_json()
    clock.set_now(THURSDAY)
    engine = live_server.app.extensions["asb"]["engine"]
    with unit_of_work(live_server.app.extensions["asb"]["sessions"]) as session:
        while engine.fire_due_timers(session, limit=100):
            pass
    with _session(live_server) as session:
        instance_id = session.scalar(select(ProcessInstance.id).where(
            ProcessInstance.business_key == reference,
            ProcessInstance.process_id == "asb_case"))
        overdue = session.scalar(select(HumanTask.assignee).where(
            HumanTask.business_key == reference, HumanTask.name == "first_contact_overdue"))
    assert overdue == "tara.leader"  # the breach escalated to the team leader
    assert instance_id is not None
    return reference, instance_id


def test_a_manager_finds_the_breached_case_sees_its_token_and_reassigns(
        page: Page, breached, live_server: LiveServer, artifacts, console):
    reference, instance_id = breached
    page.add_init_script(WATCH_CSP)
    sign_in(page, "mina.manager")
    page.goto("/instances")
    expect(page.get_by_role("heading", name="Process instances")).to_be_visible()
    page.get_by_text("Filter the list").click()
    page.get_by_label("Current step").select_option("first_contact")
    page.get_by_label("With a task past its due date").check()
    page.get_by_role("button", name="Apply filters").click()
    row = page.locator(f'tr[data-instance="{instance_id}"]')
    expect(row).to_contain_text(reference)
    expect(row).to_contain_text("Make first contact")
    expect(row.get_by_text("Overdue").first).to_be_visible()
    assert "step=first_contact" in page.url and "overdue=1" in page.url
    screenshot(page, "manager-instances-1-list", artifacts)
    check_accessibility(page, "manager-instances-list", artifacts)

    row.get_by_role("link", name=re.compile(f"#{instance_id}")).click()
    expect(page.get_by_role("heading", name=f"Instance {instance_id}: {reference}")).to_be_visible()
    diagram = page.locator("#process-diagram")
    expect(diagram).to_be_visible()
    current = diagram.locator('g.djs-element[data-element-id="first_contact"]')
    expect(current).to_have_class(re.compile(r"\basb-current\b"))
    token = diagram.locator('.djs-overlays[data-container-id="first_contact"] .asb-token')
    expect(token).to_be_visible()
    expect(diagram.locator('g[data-element-id="first_contact_started"]')).to_have_class(
        re.compile(r"\basb-done\b"))
    expect(diagram.get_by_role("img", name=re.compile(
        "A token marks where the process is now: .*Make first contact"))).to_be_visible()
    expect(page.locator("#open-tasks")).to_contain_text("Olivia Officer")
    screenshot(page, "manager-instances-2-instance", artifacts)
    check_accessibility(page, "manager-instances-instance", artifacts)

    page.locator("#open-tasks tr", has_text="Make first contact").get_by_role(
        "link", name=re.compile("Reassign")).click()
    expect(page.get_by_label("Make first contact")).to_be_checked()
    page.get_by_label("Give them to").select_option(label="Omar Officer (officer, North team)")
    page.get_by_role("button", name="Reassign").click()
    expect(page.get_by_role("link", name="Enter why you are doing this")).to_be_visible()
    screenshot(page, "manager-instances-3-reason-missing", artifacts)
    check_accessibility(page, "manager-instances-reassign-error", artifacts)
    page.get_by_label("Why are you doing this?").fill("Olivia is off sick this week")
    page.get_by_role("button", name="Reassign").click()
    expect(page.get_by_text("1 task given to Omar Officer.")).to_be_visible()
    expect(page.locator('#open-tasks tr[data-task="first_contact"]')).to_contain_text(
        "Omar Officer")
    screenshot(page, "manager-instances-4-reassigned", artifacts)

    with _session(live_server) as session:
        holder = session.scalar(select(HumanTask.assignee).where(
            HumanTask.business_key == reference, HumanTask.name == "first_contact",
            HumanTask.state == TaskStatus.OPEN))
    assert holder == "omar.officer"
    assert page.evaluate("window.__cspViolations") == []
    assert console.unexpected() == []


def test_the_heatmap_draws_where_cases_are_on_the_diagram(
        page: Page, breached, live_server: LiveServer, artifacts, console):
    reference, instance_id = breached
    with _session(live_server) as session:
        version = session.get(ProcessInstance, instance_id).definition_id
    page.add_init_script(WATCH_CSP)
    sign_in(page, "mina.manager")
    page.goto("/instances/heatmap")
    page.get_by_role("link", name=re.compile(r"^ASB case, version \d+")).first.click()
    assert page.url.endswith(f"/instances/heatmap/{version}")
    diagram = page.locator("#process-diagram")
    page.get_by_role("button", name="First contact").click()
    badge = diagram.locator('.djs-overlays[data-container-id="first_contact"] .asb-heat-badge')
    expect(badge).to_contain_text(re.compile(r"^\d+ now"))
    expect(diagram.locator('g.djs-element[data-element-id="first_contact"]')).to_have_class(
        re.compile(r"\basb-heat-[1-5]\b"))
    expect(page.locator('#heatmap-table tr[data-step="first_contact"]')).to_be_visible()
    screenshot(page, "manager-instances-5-heatmap", artifacts)
    check_accessibility(page, "manager-instances-heatmap", artifacts)
    assert page.evaluate("window.__cspViolations") == []
    assert console.unexpected() == []
