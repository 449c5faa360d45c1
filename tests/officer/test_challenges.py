"""ASB Case Review applications and complaints through the pages: record, read, extend, escalate.

Promise 8 ("the right to an ASB Case Review or a complaint") needs a door for people who ask
by phone or at the counter, with or without a case, and a page where a team leader or manager
sees where each one stands and gives more time or opens stage 2.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cases.challenge import CaseReview, Complaint, ComplaintStatus
from cases.outbox import OutboxMessage
from engine import clock
from engine.models import HumanTask, TaskStatus
from tests.api.support import Api
from web.extensions import unit

from .conftest import audit_rows, counts, token

APPLICANT = {"person_name": "Ann Applicant", "person_phone": "07700 900123",
             "pref_channels": ["phone"]}


def _form(client, extra: dict[str, Any]) -> dict[str, Any]:
    return {"csrf_token": token(client), **extra}


def _one(api: Api, model: Any) -> Any:
    with api.app.app_context(), unit() as session:
        row = session.scalars(select(model).order_by(model.id.desc())).first()
        session.expunge_all()
        return row


def _tasks(api: Api, reference: str) -> list[HumanTask]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(HumanTask).where(
            HumanTask.business_key == reference, HumanTask.state == TaskStatus.OPEN)))
        session.expunge_all()
        return rows


def _complete(api: Api, reference: str, name: str, data: dict[str, Any], who: str) -> None:
    (task,) = [t for t in _tasks(api, reference) if t.name == name]
    engine = api.app.extensions["asb"]["engine"]
    with api.app.app_context(), unit() as session:
        engine.claim(session, task.id, who)
        engine.complete(session, task.id, data, who)


# -- Case Review applications -----------------------------------------------------------------

def test_an_officer_records_an_application_without_a_case_for_the_team_leaders(api, signed_in):
    olivia = signed_in("olivia")
    response = olivia.post("/case-reviews/new", data=_form(olivia, {
        **APPLICANT, "relationship": "elected_representative",
        "description": "Residents say drug dealing in the park has gone on all year.",
        "location": "Queen's Park, Chesterfield S40 2LD",
        "other_made_to_0": "police", "other_occurred_0": "1/12/2026",
        "other_reported_0": "2/12/2026"}))
    assert response.status_code == 302 and response.location == "/inbox"
    review = _one(api, CaseReview)
    assert (review.case_id, review.relationship_to_victim.value, review.postcode) == (
        None, "elected_representative", "S40 2LD")
    assert [r["made_to"] for r in review.other_reports] == ["police"]
    assert review.received_by == "olivia"
    # The decision waits in the team leaders' queue; the applicant asked to be phoned, so a
    # call to acknowledge it waits for any officer. The officer is told where it went.
    assert sorted((t.name, t.role, t.assignee) for t in _tasks(api, review.reference)) == [
        ("decide_case_review", "team_leader", None), ("phone_reporter", "officer", None)]
    page = olivia.get("/inbox").get_data(as_text=True)
    assert f"Case Review application {review.reference} recorded" in page
    # A complaint may be about the officer: officers record, but do not read.
    assert olivia.get(f"/case-reviews/{review.reference}").status_code == 403
    assert [e.object_id for e in audit_rows(api, "case_review.applied")] == [review.reference]


def test_a_refused_application_is_shown_again_with_messages_and_records_nothing(api, signed_in):
    olivia = signed_in("olivia")
    before = counts(api)
    response = olivia.post("/case-reviews/new", data=_form(olivia, {
        "person_email": "not an address", "other_made_to_1": "social_landlord",
        "other_occurred_1": "31/02/2026", "other_reported_1": "yesterday"}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for message in ("Enter the date of the behaviour as day/month/year",
                    "Enter the date it was reported as day/month/year"):
        assert message in page, message
    assert 'href="#other_occurred_1"' in page and 'value="not an address"' in page
    # The record's own checks run once the dates can be read.
    response = olivia.post("/case-reviews/new", data=_form(olivia, {
        "person_email": "not an address"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Enter their full name", "Their email address is not an email address",
                    "Enter what the problem is",
                    "Say where the problem is, who causes it, or which case it is"):
        assert message in page, message
    assert counts(api) == before and _one(api, CaseReview) is None


def test_an_application_links_only_to_a_case_the_officer_may_see(api, signed_in):
    ref = api.open_case()["reference"]  # a North case in St Helen's
    sam = signed_in("sam")  # South team
    before = counts(api)
    response = sam.post("/case-reviews/new", data=_form(sam, {
        **APPLICANT, "description": "Nothing was done.", "case_reference": ref}))
    assert response.status_code == 400
    assert "No case you can see has this reference" in response.get_data(as_text=True)
    missing = sam.post("/case-reviews/new", data=_form(sam, {
        **APPLICANT, "description": "Nothing was done.", "case_reference": "ASB-2026-999999"}))
    assert "No case you can see has this reference" in missing.get_data(as_text=True)
    assert counts(api) == before

    olivia = signed_in("olivia")
    form = olivia.get(f"/case-reviews/new?case={ref}").get_data(as_text=True)
    assert f'value="{ref}"' in form
    response = olivia.post("/case-reviews/new", data=_form(olivia, {
        **APPLICANT, "description": "Nothing was done.", "case_reference": ref}))
    assert response.status_code == 302 and response.location == f"/cases/{ref}"
    review = _one(api, CaseReview)
    case_page = olivia.get(f"/cases/{ref}").get_data(as_text=True)
    assert f"ASB Case Review {review.reference}" in case_page
    assert f'href="/case-reviews/{review.reference}"' not in case_page  # officers don't read
    tara_page = signed_in("tara").get(f"/cases/{ref}").get_data(as_text=True)
    assert f'href="/case-reviews/{review.reference}"' in tara_page


def test_a_team_leader_follows_a_case_review_and_every_reading_is_audited(api, signed_in):
    tara = signed_in("tara")
    response = tara.post("/case-reviews/new", data=_form(tara, {
        **APPLICANT, "description": "Loud parties every weekend.",
        "location": "4 Mill Lane, Chesterfield S40 1AB"}))
    review = _one(api, CaseReview)
    assert response.status_code == 302
    assert response.location == f"/case-reviews/{review.reference}"
    listing = tara.get("/case-reviews").get_data(as_text=True)
    assert review.reference in listing and "Received" in listing
    page = tara.get(f"/case-reviews/{review.reference}").get_data(as_text=True)
    for shown in ("Ann Applicant", "07700900123", "Loud parties every weekend.",
                  "Decide whether to hold a review"):
        assert shown in page, shown
    assert re.search(r"Threshold decision</dt>\s*<dd[^>]*>Due by", page)
    assert [e.object_id for e in audit_rows(api, "case_review.viewed")] == [review.reference]
    assert audit_rows(api, "case_review.listed")
    assert tara.get("/case-reviews/CR-2026-9999").status_code == 404
    assert signed_in("maria").get(f"/case-reviews/{review.reference}").status_code == 200


# -- complaints -------------------------------------------------------------------------------

def _complaint(api: Api, signed_in, **extra: Any) -> tuple[Any, Complaint]:
    tara = signed_in("tara")
    response = tara.post("/complaints/new", data=_form(tara, {
        **APPLICANT, "person_email": "ann@example.org", "pref_channels": ["email"],
        "about": "Nobody called me back about the noise.",
        "outcome_sought": "A call from my officer.", **extra}))
    complaint = _one(api, Complaint)
    assert response.status_code == 302
    assert response.location == f"/complaints/{complaint.reference}"
    return tara, complaint


def test_a_complaint_is_recorded_and_refused_forms_change_nothing(api, signed_in):
    olivia = signed_in("olivia")
    before = counts(api)
    response = olivia.post("/complaints/new", data=_form(olivia, {"person_name": "Ann"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter what the complaint is about" in page
    assert "Give a phone number, email address or address" in page
    assert counts(api) == before
    tara, complaint = _complaint(api, signed_in, council_home="y")
    assert complaint.council_home and complaint.status is ComplaintStatus.STAGE_ONE
    page = tara.get(f"/complaints/{complaint.reference}").get_data(as_text=True)
    assert "Nobody called me back about the noise." in page and "Stage 1" in page
    assert "Extend stage" not in page  # not yet acknowledged
    assert "Acknowledge the complaint" in page
    listing = signed_in("maria").get("/complaints").get_data(as_text=True)
    assert complaint.reference in listing
    assert [e.object_id for e in audit_rows(api, "complaint.viewed")] == [complaint.reference]


def test_a_stage_is_extended_once_with_the_reason_the_complainant_is_told(api, signed_in):
    tara, complaint = _complaint(api, signed_in)
    ref = complaint.reference
    refused = tara.post(f"/complaints/{ref}/extension",
                        data=_form(tara, {"days": "5", "reason": "Officer on leave"}))
    assert refused.status_code == 400
    assert "Acknowledge the complaint first" in refused.get_data(as_text=True)
    _complete(api, ref, "acknowledge_complaint", {"understanding": "No call back."}, "tara")
    for bad, message in (({"days": "eleven", "reason": "x"}, "Must be a whole number"),
                         ({"days": "30", "reason": "x"}, "from 1 to 10"),
                         ({"days": "3", "reason": " "}, "Give the reason")):
        response = tara.post(f"/complaints/{ref}/extension", data=_form(tara, bad))
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    with api.app.app_context(), unit() as session:
        stage = session.scalars(select(Complaint).where(Complaint.reference == ref)).one().current
        assert stage.extended_days is None
        old_due = stage.response_due_at
    response = tara.post(f"/complaints/{ref}/extension", data=_form(tara, {
        "days": "5", "reason": "The officer involved is on leave until next week."}))
    assert response.status_code == 302
    page = tara.get(f"/complaints/{ref}").get_data(as_text=True)
    assert "extended by 5 working days" in page
    assert "The officer involved is on leave until next week." in page
    with api.app.app_context(), unit() as session:
        stage = session.scalars(select(Complaint).where(Complaint.reference == ref)).one().current
        assert stage.extended_days == 5 and stage.response_due_at > old_due
        told = session.scalars(select(OutboxMessage).where(
            OutboxMessage.case_reference == ref,
            OutboxMessage.template == "complaint_extension")).one()
        assert "on leave until next week" in told.body_text
    again = tara.post(f"/complaints/{ref}/extension",
                      data=_form(tara, {"days": "2", "reason": "More"}))
    assert again.status_code == 400
    assert "already been extended once" in again.get_data(as_text=True)
    assert "complaint.extended" in [e.action for e in audit_rows(api, "complaint.extended")]


def test_the_complainant_asks_for_stage_two_within_the_window(api, signed_in):
    tara, complaint = _complaint(api, signed_in)
    ref = complaint.reference
    early = tara.post(f"/complaints/{ref}/escalation", data=_form(tara, {"reason": "Unhappy"}))
    assert early.status_code == 400
    assert "This complaint cannot go to stage 2 now" in early.get_data(as_text=True)
    _complete(api, ref, "acknowledge_complaint", {"understanding": "No call back."}, "tara")
    _complete(api, ref, "respond_to_complaint", {
        "outcome": "upheld", "response": "We failed to call.", "remedy": "An apology."}, "tara")
    page = tara.get(f"/complaints/{ref}").get_data(as_text=True)
    assert "Stage 2 may be asked for until" in page and "Move to stage 2" in page
    empty = tara.post(f"/complaints/{ref}/escalation", data=_form(tara, {"reason": ""}))
    assert empty.status_code == 400
    assert "Say why the complainant is still unhappy" in empty.get_data(as_text=True)
    assert _one(api, Complaint).status is ComplaintStatus.AWAITING_ESCALATION
    response = tara.post(f"/complaints/{ref}/escalation",
                         data=_form(tara, {"reason": "The named officer never called."}))
    assert response.status_code == 302
    assert _one(api, Complaint).status is ComplaintStatus.STAGE_TWO
    assert [(t.name, t.role) for t in _tasks(api, ref)] == [("acknowledge_stage_two", "manager")]
    page = signed_in("maria").get(f"/complaints/{ref}").get_data(as_text=True)
    assert "Stage 2" in page and "The named officer never called." in page


def test_stage_two_cannot_be_asked_for_once_the_window_has_passed(api, signed_in):
    tara, complaint = _complaint(api, signed_in)
    ref = complaint.reference
    _complete(api, ref, "acknowledge_complaint", {"understanding": "No call back."}, "tara")
    _complete(api, ref, "respond_to_complaint", {
        "outcome": "not_upheld", "response": "We called twice."}, "tara")
    clock.set_now(clock.now() + timedelta(days=60))
    before = _one(api, Complaint)
    tara = signed_in("tara")  # a new day, a new session
    response = tara.post(f"/complaints/{ref}/escalation",
                         data=_form(tara, {"reason": "Still unhappy"}))
    assert response.status_code == 400
    assert "The time to ask for stage 2 has passed" in response.get_data(as_text=True)
    after = _one(api, Complaint)
    assert (after.status, after.escalated_at) == (before.status, None)
    assert after.status is ComplaintStatus.AWAITING_ESCALATION
