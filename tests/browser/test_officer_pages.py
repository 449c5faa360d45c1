"""The officer page types the journey does not reach, each in Chromium with axe-core.

The journey (test_officer_journey.py) covers the inbox, a task form, the new-report form and
the case file on their happy path. Here: each of those with its error messages showing, the
team leader's queue, search results, emergency ("break glass") access, the evidence form
refusing a file, a letter, and a completed task showing what was submitted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cases.people import User, issue_token
from engine import clock
from engine.database import make_engine, make_session_factory, unit_of_work
from tests.api.support import report
from tests.browser.conftest import LiveServer
from tests.browser.support import check_accessibility, screenshot, sign_in

# Wednesday 13 January 2027, 10:00: a working morning.
MORNING = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)
ASSESSMENT = {"harm": "low", "community_impact": "low"}


class Cases:
    """Opens cases and completes tasks through the API of the live server, as olivia."""

    def __init__(self, live_server: LiveServer) -> None:
        self.client = live_server.app.test_client()
        engine = make_engine(live_server.database_url)
        try:
            with unit_of_work(make_session_factory(engine)) as session:
                olivia = session.scalars(select(User).where(User.name == "olivia.officer")).one()
                self.headers = {"Authorization": f"Bearer {issue_token(session, olivia)}"}
        finally:
            engine.dispose()

    def open(self, **overrides: object) -> str:
        response = self.client.post("/api/v1/cases", headers=self.headers,
                                    json=report(received_at="2027-01-13T10:00:00", **overrides))
        assert response.status_code == 201, response.get_json()
        reference: str = response.get_json()["reference"]
        return reference

    def task(self, reference: str, name: str) -> str:
        items = self.client.get(f"/api/v1/cases/{reference}/tasks",
                                headers=self.headers).get_json()["items"]
        (found,) = [t["id"] for t in items if t["name"] == name and t["state"] == "open"]
        return str(found)

    def complete(self, task_id: str, data: dict[str, object]) -> None:
        response = self.client.post(f"/api/v1/tasks/{task_id}/complete", headers=self.headers,
                                    json={"data": data})
        assert response.status_code == 200, response.get_json()


@pytest.fixture
def cases(live_server: LiveServer) -> Cases:
    clock.set_now(MORNING)  # the live server runs in this process: its clock is this one
    return Cases(live_server)


def _finish(page: Page, name: str, artifacts, console) -> None:  # type: ignore[no-untyped-def]
    check_accessibility(page, name, artifacts)
    screenshot(page, name, artifacts)
    assert console.unexpected() == []


def test_a_task_form_sent_empty_shows_each_error_and_keeps_what_was_typed(
        page: Page, cases, artifacts, console):
    reference = cases.open()
    task = cases.task(reference, "assess_risk")
    sign_in(page, "olivia.officer")
    page.goto(f"/tasks/{task}")
    page.locator("textarea[name='notes']").fill("Spoke to the neighbour first")
    page.get_by_role("button", name="Complete task").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(page.locator("textarea[name='notes']")).to_have_value("Spoke to the neighbour first")
    _finish(page, "officer-task-form-errors", artifacts, console)


def test_a_completed_task_shows_what_was_submitted(page: Page, cases, artifacts, console):
    reference = cases.open()
    task = cases.task(reference, "assess_risk")
    cases.complete(task, {**ASSESSMENT, "notes": "Low risk; reporter has support at home"})
    sign_in(page, "olivia.officer")
    page.goto(f"/tasks/{task}")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Low risk; reporter has support at home")
    expect(page.get_by_role("button", name="Complete task")).to_have_count(0)
    _finish(page, "officer-task-completed", artifacts, console)


def test_the_new_report_form_sent_empty_lists_its_errors(page: Page, artifacts, console):
    sign_in(page, "olivia.officer")
    page.goto("/reports/new")
    page.get_by_role("button", name="Open the case").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page.locator(".govuk-error-message").first).to_be_visible()
    _finish(page, "officer-new-report-errors", artifacts, console)


def test_the_team_leader_sees_the_teams_tasks_with_filters(page: Page, cases, artifacts,
                                                            console):
    reference = cases.open()
    sign_in(page, "tara.leader")
    page.goto("/inbox?view=all_team")
    expect(page.locator("tr", has_text=reference).first).to_be_visible()
    _finish(page, "officer-inbox-team-leader", artifacts, console)


def test_search_results(page: Page, cases, artifacts, console):
    reference = cases.open()
    sign_in(page, "olivia.officer")
    page.goto("/cases")
    page.get_by_label(re.compile("Reference, name, address or postcode", re.I)).fill(reference)
    page.get_by_role("button", name=re.compile("Search", re.I)).click()
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    _finish(page, "officer-search-results", artifacts, console)


def test_break_glass_asks_for_a_reason_then_opens_the_case(page: Page, cases, artifacts,
                                                            console):
    reference = cases.open()  # a North case: oscar.officer is in the South team
    sign_in(page, "oscar.officer")
    response = page.goto(f"/cases/{reference}")
    assert response is not None and response.status == 404
    page.goto(f"/cases/{reference}/break-glass")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Emergency access")
    page.get_by_role("button", name=re.compile("open", re.I)).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _finish(page, "officer-break-glass-errors", artifacts, console)
    page.get_by_label("Why do you need this case now?").fill(
        "Reporter rang the out-of-hours line; the case officer is away")
    page.get_by_role("button", name=re.compile("open", re.I)).click()
    expect(page).to_have_url(re.compile(rf"/cases/{reference}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)


def test_the_evidence_form_refuses_a_file_that_is_not_what_it_says(page: Page, cases,
                                                                     artifacts, console):
    reference = cases.open()
    sign_in(page, "olivia.officer")
    page.goto(f"/cases/{reference}/evidence/new")
    page.locator("input[name='kind'][value='photo']").check()
    page.get_by_label("File").set_input_files(
        {"name": "door.png", "mimeType": "image/png", "buffer": b"MZ\x90\x00 not a picture"})
    page.get_by_role("button", name="Add evidence").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("not a type we accept")
    _finish(page, "officer-evidence-errors", artifacts, console)


def test_a_letter_sent_to_the_reporter(page: Page, cases, artifacts, console):
    reporter = {**report()["reporter"], "contact_preferences": {"channels": ["letter"]}}
    reference = cases.open(reporter=reporter)
    sign_in(page, "olivia.officer")
    page.goto(f"/cases/{reference}")
    entry = page.locator("#timeline li, #timeline tr").filter(has_text="Letter to the reporter")
    entry.first.get_by_role("link", name="View message").click()
    expect(page).to_have_url(re.compile(rf"/cases/{reference}/letters/\d+$"))
    expect(page.get_by_role("link", name=re.compile("PDF", re.I))).to_be_visible()
    _finish(page, "officer-letter", artifacts, console)


def test_the_inbox_counts_refresh_without_reloading_the_page(page: Page, cases, artifacts,
                                                              console):
    page.clock.install()
    sign_in(page, "olivia.officer")
    page.goto("/inbox")
    mine = page.locator('[data-count="mine"]')
    before = int(mine.inner_text())
    cases.open()  # a new case in olivia's ward: its risk assessment lands in her inbox
    page.clock.run_for(61_000)
    expect(mine).to_have_text(str(before + 1))
    assert console.unexpected() == []


def _watch_for_reload(page: Page) -> None:
    page.evaluate("window.__samePage = true")


def test_evidence_is_sent_with_progress_and_lands_on_the_case(page: Page, cases, artifacts,
                                                               console):
    reference = cases.open()
    sign_in(page, "olivia.officer")
    page.goto(f"/cases/{reference}/evidence/new")
    page.locator("input[name='kind'][value='document']").check()
    pdf = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024) + b"\n%%EOF\n"
    page.get_by_label("File").set_input_files(
        {"name": "diary.pdf", "mimeType": "application/pdf", "buffer": pdf})
    with page.expect_request(lambda r: r.method == "POST") as sent:
        page.get_by_role("button", name="Add evidence").click()
    assert sent.value.resource_type == "xhr"  # sent by upload.js, not a plain form post
    expect(page).to_have_url(re.compile(rf"/cases/{reference}#evidence$"))
    expect(page.get_by_role("link", name="diary.pdf")).to_be_visible()
    assert console.unexpected() == []


def test_a_refused_upload_shows_the_servers_errors_in_place(page: Page, cases, artifacts,
                                                            console):
    reference = cases.open()
    sign_in(page, "olivia.officer")
    page.goto(f"/cases/{reference}/evidence/new")
    _watch_for_reload(page)
    page.locator("input[name='kind'][value='photo']").check()
    page.get_by_label("File").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just some words"})
    page.get_by_role("button", name="Add evidence").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("is a plain text")
    expect(summary).to_be_focused()
    assert page.evaluate("window.__samePage === true"), "the page was reloaded"
    expect(page).to_have_title(re.compile("^Error: Add evidence"))
    # The re-drawn form works the same way: a right file now goes through.
    page.locator("input[name='kind'][value='document']").check()
    page.get_by_label("File").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just some words"})
    page.get_by_role("button", name="Add evidence").click()
    expect(page).to_have_url(re.compile(rf"/cases/{reference}#evidence$"))
    assert console.unexpected() == []
