"""A police partner in Chromium: signs in, opens a referral, accepts it, records the outcome."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Page, expect
from sqlalchemy import select

from cases.referrals import Referral
from engine import clock
from engine.models import HumanTask, TaskStatus
from tasks import cases_service
from tasks.stages import start_stage
from tests.browser.support import check_accessibility, screenshot, sign_in
from tests.lifecycle_support import make_report
from web.extensions import unit

MORNING = datetime(2027, 1, 14, 10, 0, tzinfo=UTC)


def _referral_to_police(live_server) -> int:
    """Olivia opens a case and refers it to the police, sharing the incidents only."""
    app = live_server.app
    engine = app.extensions["asb"]["engine"]
    with app.app_context(), unit() as session:
        case = cases_service.open_case(session, engine, make_report(), actor="api",
                                       received_at=MORNING)
        reference = case.reference
        start_stage(session, engine, reference, "asb_referrals", actor="olivia.officer")
        (task,) = session.scalars(select(HumanTask).where(
            HumanTask.business_key == reference, HumanTask.name == "choose_referral_agencies",
            HumanTask.state == TaskStatus.OPEN)).all()
        engine.complete(session, task.id, {
            "agencies": ["police"], "legal_basis": "crime_and_disorder_act_s115",
            "disclose": {"reporter_contact_details": False, "incident_details": True,
                         "risk_assessment": False, "reported_person_details": False},
            "reason": "Please patrol Mill Lane late at night.", "tell_reporter": False},
            "olivia.officer")
        found: int = session.scalars(select(Referral.id).where(Referral.case_id == case.id)
                                     ).one()
    return found


def test_a_partner_accepts_a_referral_and_records_the_outcome(page: Page, live_server,
                                                              artifacts, console):
    clock.set_now(MORNING)
    referral_id = _referral_to_police(live_server)
    sign_in(page, "paul.police")
    page.get_by_role("link", name="Referrals", exact=True).click()
    expect(page.locator("h1")).to_have_text("Referrals to Derbyshire Police")
    check_accessibility(page, "partner-referrals", artifacts)
    screenshot(page, "partner-referrals", artifacts)
    page.get_by_role("link", name=f"R{referral_id}", exact=True).click()
    expect(page.locator("#status")).to_have_text("Waiting for your answer")
    expect(page.get_by_text("Loud music and shouting every night")).to_be_visible()
    expect(page.get_by_text("Rita Reporter")).to_have_count(0)
    check_accessibility(page, "partner-referral", artifacts)
    page.get_by_role("button", name="Decline the referral").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter some text")
    check_accessibility(page, "partner-referral-errors", artifacts)
    page.get_by_role("button", name="Accept the referral").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You accepted")
    expect(page.locator("#status")).to_have_text("Accepted")
    page.get_by_label("What was the outcome?").fill("Three patrols; no further noise.")
    page.get_by_role("button", name="Record the outcome").click()
    expect(page.locator("#status")).to_have_text("Done")
    expect(page.get_by_text("nothing more to answer")).to_be_visible()
    check_accessibility(page, "partner-referral-done", artifacts)
    screenshot(page, "partner-referral-done", artifacts)
    assert console.unexpected() == []
