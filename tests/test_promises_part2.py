"""One observable effect for each promise that part 2 of the lifecycle carries (4, 7, 8) and
for the reporter's responsibilities (R), through the shipped diagrams and real handlers.

The detailed paths of each stage are in tests/stages/; this file is the commitment read
aloud: what a reporter, an officer or a partner would notice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cases.challenge import CaseReview, Complaint
from cases.evidence_requests import diary_of
from cases.operations import add_party
from cases.referrals import Referral, ReferralKind
from engine.models import ProcessInstance
from tasks import cases_service
from tasks.evidence_requests import receive_diary_entry
from tasks.stages import start_stage
from tests.lifecycle_support import new_life

MON = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)   # Monday 1 March 2027 (London on GMT)
ASSESSMENT = {"harm": "medium", "community_impact": "low"}
CONTACT = {"contacted_at": "2027-03-01T15:00:00+00:00", "method": "phone",
           "summary": "Talked it through"}
PLAN = {"actions": ["Warning letter"], "update_frequency": "fortnightly",
        "agreed_with_reporter": True}
SAFEGUARDING = {"at_risk": "child", "agency": "children_safeguarding",
                "reference_number": "MASH-2027-0042", "referred_at": "2027-03-01T10:00:00+00:00",
                "disclose": {"reporter_contact_details": False, "incident_details": True,
                             "risk_assessment": True, "reported_person_details": True},
                "legal_basis": "safeguarding", "summary": "Duty social worker will visit."}


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def open_names(life, case):
    return sorted(t.name for t in life.open_tasks(case.reference))


def test_promise_4_a_child_at_risk_gets_a_safeguarding_referral_casework_cannot_pass(life):
    case = life.open(MON, vulnerability={"child_at_risk": True})
    life.complete(case.reference, "assess_risk", ASSESSMENT)
    # The referral is due beside first contact; neither waits for the other.
    assert open_names(life, case) == ["first_contact", "make_safeguarding_referral"]
    life.complete(case.reference, "first_contact", CONTACT)
    life.complete(case.reference, "agree_action_plan", PLAN)
    assert "work_case" not in open_names(life, case)   # casework waits for the referral
    life.complete(case.reference, "make_safeguarding_referral", SAFEGUARDING)
    assert "work_case" in open_names(life, case)
    (referral,) = life.session.scalars(select(Referral).where(Referral.case_id == case.id))
    assert referral.kind is ReferralKind.SAFEGUARDING
    assert str(referral.legal_basis) == "safeguarding"
    assert referral.external_reference == "MASH-2027-0042"


def test_promise_7_referrals_to_several_agencies_each_with_its_disclosure_and_mail(life):
    case = life.open(MON)
    add_party(life.session, case, "reported_person",
              {"name": "Nigel Neighbour", "address": "14 Mill Lane, Chesterfield S40 1AB"})
    start_stage(life.session, life.engine, case.reference, "asb_referrals", actor="olivia")
    life.complete(case.reference, "choose_referral_agencies", {
        "agencies": ["police", "victim_support"],
        "disclose": {"reporter_contact_details": False, "incident_details": True,
                     "risk_assessment": False, "reported_person_details": True},
        "legal_basis": "crime_and_disorder_act_s115",
        "reason": "Joint patrols on Mill Lane and support for the reporter.",
        "tell_reporter": True})
    referrals = list(life.session.scalars(select(Referral).where(Referral.case_id == case.id)
                                          .order_by(Referral.agency_code)))
    assert [r.agency_code for r in referrals] == ["police", "victim_support"]
    assert all(r.disclosure_id is not None for r in referrals)   # each disclosure recorded
    to_partners = [m for m in life.outbox(case.reference) if m.recipient_role == "partner"]
    assert len(to_partners) == 2
    trackers = life.session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_id == "asb_referral_tracking",
        ProcessInstance.business_key == case.reference)).all()
    assert len(trackers) == 2   # each referral is followed up until the agency answers


def test_promise_8_a_case_review_and_a_complaint_can_be_asked_for_from_the_case(life):
    case = life.open(MON)
    for message in ("case_review_application", "complaint"):
        cases_service.send_event(life.session, life.engine, case.reference, message,
                                 {"description": "Nothing has changed in three months"},
                                 actor="api")
    (review,) = life.session.scalars(select(CaseReview).where(CaseReview.case_id == case.id))
    (complaint,) = life.session.scalars(select(Complaint).where(Complaint.case_id == case.id))
    assert review.reference.startswith("CR-") and complaint.reference.startswith("CMP-")
    started = set(life.session.scalars(select(ProcessInstance.process_id).where(
        ProcessInstance.business_key.in_((review.reference, complaint.reference)))))
    assert started == {"asb_case_review", "asb_complaint"}
    # The acknowledgement already told the reporter how to ask for both.
    acknowledgement = life.outbox(case.reference)[0]
    assert "Case Review" in acknowledgement.body_text
    assert "complain" in acknowledgement.body_text.lower()


def test_responsibility_diary_entries_reach_the_case_and_the_officer(life):
    case = life.open(MON)
    receive_diary_entry(life.session, life.engine, case.reference, {
        "occurred_at": "2027-02-28T22:30:00+00:00",
        "what_happened": "Music until 2am again", "effect": "No sleep before work"},
        actor="reporter")
    (entry,) = diary_of(life.session, case)
    assert entry.what_happened == "Music until 2am again"
    review = life.task(case.reference, "review_diary_entry")
    assert (review.assignee, review.due_at) == ("olivia",
                                                datetime(2027, 3, 2, 17, 0, tzinfo=UTC))


def test_responsibility_a_change_of_circumstances_that_raises_the_risk_moves_the_deadline(life):
    case = life.open(MON)                 # priority 2: first contact within 5 working days
    assert case.first_contact_due_at == datetime(2027, 3, 8, 17, 0, tzinfo=UTC)
    life.complete(case.reference, "assess_risk", ASSESSMENT)
    cases_service.send_event(life.session, life.engine, case.reference,
                             "change_of_circumstances", {"note": "Threats made today"},
                             actor="api")
    life.complete(case.reference, "review_risk", {**ASSESSMENT, "raise_priority": True})
    contact = life.task(case.reference, "first_contact")
    assert contact.due_at == datetime(2027, 3, 2, 17, 0, tzinfo=UTC)   # now 1 working day


EVIDENCE_ASK = {"kinds": {"diary_sheet": True, "photo": True, "audio": False},
                "reason": "To show how late the music goes on and how often."}
NO_CONFRONTING = "do not confront the"


def test_responsibility_do_not_confront_every_letter_asking_for_help_gives_the_safety_advice(
        life):
    case = life.open(MON)
    start_stage(life.session, life.engine, case.reference, "asb_evidence_request",
                actor="olivia")
    life.complete(case.reference, "ask_for_evidence", EVIDENCE_ASK)
    life.at(datetime(2027, 3, 8, 17, 1, tzinfo=UTC))      # the evidence is a day late
    letters = {m.template: " ".join(m.body_text.split()) for m in life.outbox(case.reference)}
    for template in ("acknowledgement", "evidence_request", "evidence_reminder"):
        advice = letters[template]
        assert f"please {NO_CONFRONTING} person responsible" in advice, template
        assert "Only collect evidence where it is safe for you to do so" in advice, template
        assert "call 999" in advice, template


def test_responsibility_stay_in_contact_the_officer_is_named_and_silence_is_followed_up(life):
    case = life.open(MON)
    acknowledgement = " ".join(life.outbox(case.reference)[0].body_text.split())
    assert "Your case officer is Olivia Officer" in acknowledgement
    assert "Please contact them if anything changes" in acknowledgement
    assert "olivia@council.example.org" in acknowledgement
    start_stage(life.session, life.engine, case.reference, "asb_evidence_request",
                actor="olivia")
    life.complete(case.reference, "ask_for_evidence", EVIDENCE_ASK)
    # A reporter who goes quiet is reminded twice, then their officer is asked to follow up.
    for day in (8, 15, 22):
        life.at(datetime(2027, 3, day, 17, 1, tzinfo=UTC))
    reminders = [m for m in life.outbox(case.reference) if m.template == "evidence_reminder"]
    assert len(reminders) == 2
    follow_up = life.task(case.reference, "evidence_not_received")
    assert (follow_up.assignee, follow_up.title) == (
        "olivia", "Evidence not received: decide what next")
