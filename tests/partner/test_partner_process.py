"""The partner's answers drive the real tracking and conference processes (product clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cases.referrals import ReferralStatus, referrals_for_case
from cases.support import ActionStatus, conference_actions, conferences_for_case
from engine.models import InstanceStatus, ProcessInstance
from tasks import partner_portal
from tasks.stages import start_stage
from tests.lifecycle_support import new_life

MON = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)     # Monday 1 March 2027 (GMT)
REFERRAL = {"agencies": ["police", "victim_support"],
            "disclose": {"reporter_contact_details": False, "incident_details": True,
                         "risk_assessment": False, "reported_person_details": False},
            "legal_basis": "crime_and_disorder_act_s115", "reason": "Please help.",
            "tell_reporter": False}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def _instances(life, case, process):
    return list(life.session.scalars(select(ProcessInstance).where(
        ProcessInstance.business_key == case.reference, ProcessInstance.process_id == process)
        .order_by(ProcessInstance.id)))


def test_accepting_stops_the_chasers_and_declining_asks_the_officer(life):
    case = life.open(MON)
    start_stage(life.session, life.engine, case.reference, "asb_referrals", actor="olivia")
    life.complete(case.reference, "choose_referral_agencies", REFERRAL)
    police, victims = life.session.scalars(referrals_for_case(case)).all()
    life.at(utc(2027, 3, 2, 9))
    partner_portal.accept(life.session, police, by="paul", now=utc(2027, 3, 2, 9))
    partner_portal.decline(life.session, victims, "We do not cover Mill Lane.",
                           by="link:victim_support", now=utc(2027, 3, 2, 9))
    life.at(utc(2027, 3, 8, 17, 1))          # the first check: no reminder for either
    first, second = _instances(life, case, "asb_referral_tracking")
    assert first.status is InstanceStatus.COMPLETED
    assert [m for m in life.outbox(case.reference) if m.template == "partner_reminder"] == []
    task = life.task(case.reference, "referral_declined")
    assert (task.assignee, task.instance_id) == ("olivia", second.id)
    life.complete(case.reference, "referral_declined",
                  {"next_step": "refer_elsewhere", "note": "Try the housing team."})
    assert victims.next_step == "refer_elsewhere" and victims.status is ReferralStatus.DECLINED
    told = [m for m in life.outbox(case.reference) if m.template == "partner_update"]
    assert [m.to_address for m in told] == ["olivia@council.example.org"] * 2
    assert "We do not cover Mill Lane." in told[1].body_text


def test_conference_actions_done_by_the_partner_end_the_follow_up(life):
    case = life.open(MON)
    start_stage(life.session, life.engine, case.reference, "asb_case_conference",
                actor="olivia")
    life.complete(case.reference, "schedule_conference", {
        "conference_at": "2027-03-10T10:00:00+00:00", "agencies": ["police"],
        "venue": "Room 2"})
    life.at(utc(2027, 3, 10, 10, 1))
    life.complete(case.reference, "record_conference", {
        "held": True, "attendees": ["police"], "legal_basis": "crime_and_disorder_act_s115",
        "summary": "Patrols agreed.", "actions": ["Patrol Mill Lane | police | 2027-03-19"]})
    (conference,) = life.session.scalars(conferences_for_case(case)).all()
    (action,) = life.session.scalars(conference_actions(conference)).all()
    partner_portal.update_action(life.session, action, "Derbyshire Police", done=False,
                                 text="First patrol done.", by="paul", now=utc(2027, 3, 12, 9))
    assert action.status is ActionStatus.OPEN
    partner_portal.update_action(life.session, action, "Derbyshire Police", done=True,
                                 text="", by="paul", now=utc(2027, 3, 15, 9))
    assert (action.status, action.done_by) == (ActionStatus.DONE, "paul")
    life.at(utc(2027, 3, 19, 17, 1))
    (instance,) = _instances(life, case, "asb_case_conference")
    assert instance.status is InstanceStatus.COMPLETED
    assert [m for m in life.outbox(case.reference)
            if m.template == "conference_action_reminder"] == []
