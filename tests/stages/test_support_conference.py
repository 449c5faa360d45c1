"""The multi-agency case conference through the shipped diagram, driven by the product clock:
scheduled with invitations, recorded (or not held and scheduled again), then each action
followed: done on time, or overdue with reminders to its owner and the officer asked.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.records import Disclosure
from cases.support import (
    ActionStatus,
    CaseConference,
    ConferenceStatus,
    OwnerKind,
    complete_conference_action,
    conference_actions,
    conferences_for_case,
)
from engine.errors import FormInvalid
from engine.models import InstanceStatus, ProcessInstance
from tasks.stages import start_stage
from tests.lifecycle_support import new_life

MON = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)    # Monday 1 March 2027 (GMT)
SCHEDULE = {"conference_at": "2027-03-10T10:00:00+00:00",
            "agencies": ["police", "youth", "education"], "venue": "Room 2, Town Hall"}
ACTIONS = ["Visit the family with the school | youth | 2027-03-17",
           "Patrol Mill Lane on Friday nights | police | 2027-03-19",
           "Send a warning letter | olivia | 2027-03-15"]
HELD = {"held": True, "attendees": ["police", "youth"],
        "legal_basis": "crime_and_disorder_act_s115",
        "summary": "Agreed joint visits and patrols.", "actions": ACTIONS}
PROCESS = "asb_case_conference"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def only(life, case):
    (task,) = [t for t in life.open_tasks(case.reference) if t.process_id == PROCESS]
    return task


def none_open(life, case) -> bool:
    return not [t for t in life.open_tasks(case.reference) if t.process_id == PROCESS]


def complete(life, case, data, actor="olivia"):
    return life.engine.complete(life.session, only(life, case).id, data, actor)


def instance(life, case) -> ProcessInstance:
    (row,) = life.session.scalars(select(ProcessInstance).where(
        ProcessInstance.business_key == case.reference, ProcessInstance.process_id == PROCESS))
    return row


def conference(life, case) -> CaseConference:
    return list(life.session.scalars(conferences_for_case(case)))[-1]


def actions(life, case):
    return list(life.session.scalars(conference_actions(conference(life, case))))


def reminders(life, case):
    return [m for m in life.outbox(case.reference) if m.template == "conference_action_reminder"]


def held_conference(life):
    """A case whose conference was held on Wed 10 March with the three actions above."""
    case = life.open(MON)
    start_stage(life.session, life.engine, case.reference, PROCESS, actor="olivia")
    complete(life, case, SCHEDULE)
    life.at(utc(2027, 3, 10, 10, 1))
    complete(life, case, HELD)
    return case


def test_a_conference_is_scheduled_with_invitations_and_then_recorded(life):
    case = life.open(MON)
    start_stage(life.session, life.engine, case.reference, PROCESS, actor="oscar")
    task = only(life, case)
    assert (task.name, task.title, task.assignee) == (
        "schedule_conference", "Schedule the case conference", "oscar")
    with pytest.raises(FormInvalid) as info, life.session.begin_nested():
        complete(life, case, {**SCHEDULE, "conference_at": "2027-02-01T10:00:00+00:00",
                              "agencies": ["police", "ghostbusters"]}, actor="oscar")
    assert set(info.value.errors) == {"conference_at", "agencies.1"}
    complete(life, case, SCHEDULE, actor="oscar")
    meeting = conference(life, case)
    assert (meeting.status, meeting.starts_at, meeting.invited) == (
        ConferenceStatus.SCHEDULED, utc(2027, 3, 10, 10, 0), ["police", "youth", "education"])
    invitations = [m for m in life.outbox(case.reference) if m.template == "conference_invitation"]
    assert [m.to_address for m in invitations] == [
        "asb@police.example.org", "youth@council.example.org", "ews@county.example.org"]
    assert "10am on Wednesday 10 March 2027" in invitations[0].body_text
    assert "Room 2, Town Hall" in invitations[0].body_text
    assert "Rita Reporter" not in invitations[0].body_text   # no personal details by e-mail
    assert none_open(life, case) and instance(life, case).next_timer_at == meeting.starts_at
    life.at(utc(2027, 3, 10, 10, 1))
    task = only(life, case)
    assert (task.name, task.assignee, task.due_at) == (
        "record_conference", "olivia", utc(2027, 3, 12, 17, 0))
    complete(life, case, HELD)
    assert (meeting.status, meeting.attendees) == (ConferenceStatus.HELD, ["police", "youth"])
    rows = actions(life, case)
    assert [(a.number, a.owner_kind, a.owner, a.owner_email, a.due_at, a.status)
            for a in rows] == [
        (1, OwnerKind.AGENCY, "youth", "youth@council.example.org", utc(2027, 3, 17, 17, 0),
         ActionStatus.OPEN),
        (2, OwnerKind.AGENCY, "police", "asb@police.example.org", utc(2027, 3, 19, 17, 0),
         ActionStatus.OPEN),
        (3, OwnerKind.USER, "olivia", "olivia@council.example.org", utc(2027, 3, 15, 17, 0),
         ActionStatus.OPEN)]
    disclosed = life.session.scalars(select(Disclosure).where(Disclosure.case_id == case.id))
    assert sorted((d.recipient, str(d.legal_basis)) for d in disclosed) == [
        ("Derbyshire Police", "crime_and_disorder_act_s115"),
        ("Youth services", "crime_and_disorder_act_s115")]
    assert instance(life, case).next_timer_at == utc(2027, 3, 15, 17, 0)   # first due date


def test_actions_done_on_time_end_the_follow_up_without_reminders(life):
    case = held_conference(life)
    for action in actions(life, case):
        complete_conference_action(life.session, action, by="partner", at=utc(2027, 3, 12, 9))
    life.at(utc(2027, 3, 15, 17, 1))
    assert instance(life, case).status is InstanceStatus.COMPLETED
    assert reminders(life, case) == [] and none_open(life, case)


def test_an_overdue_action_is_chased_then_the_officer_follows_it_up(life):
    case = held_conference(life)
    youth_visit, patrol, letter = actions(life, case)
    complete_conference_action(life.session, letter, by="olivia", at=utc(2027, 3, 15, 12))
    life.at(utc(2027, 3, 15, 17, 1))
    assert instance(life, case).next_timer_at == utc(2027, 3, 17, 17, 0)
    life.at(utc(2027, 3, 17, 17, 1))          # the visit is overdue: first reminder
    (first,) = reminders(life, case)
    assert first.to_address == "youth@council.example.org"
    assert "Visit the family with the school" in first.body_text
    complete_conference_action(life.session, patrol, by="police", at=utc(2027, 3, 18, 9))
    life.at(utc(2027, 3, 19, 17, 1))          # the patrol's due date: done, nothing to send
    assert len(reminders(life, case)) == 1
    life.at(utc(2027, 3, 24, 17, 1))          # 5 working days after the first: second reminder
    assert len(reminders(life, case)) == 2 and youth_visit.chasers_sent == 2
    assert none_open(life, case)
    # 25, 30, 31 March, 1 and 2 April (Easter), close of business in summer time.
    assert instance(life, case).next_timer_at == utc(2027, 4, 2, 16, 0)
    life.at(utc(2027, 4, 2, 16, 1))
    task = only(life, case)
    assert (task.name, task.title, task.assignee, task.due_at) == (
        "conference_actions_overdue", "Conference actions overdue", "olivia",
        utc(2027, 4, 5, 16, 0))
    with pytest.raises(FormInvalid) as info, life.session.begin_nested():
        complete(life, case, {"done_actions": ["2"], "decision": "keep_chasing", "note": "x"})
    assert list(info.value.errors) == ["done_actions.0"]   # action 2 is done already
    complete(life, case, {"decision": "keep_chasing", "note": "Youth team lead is off sick."})
    assert len(reminders(life, case)) == 3                  # the reminders start again now
    assert youth_visit.chasers_sent == 1 and none_open(life, case)
    complete_conference_action(life.session, youth_visit, by="youth", at=utc(2027, 4, 6, 9))
    life.at(utc(2027, 4, 9, 16, 1))
    assert instance(life, case).status is InstanceStatus.COMPLETED
    audit = [e.action for e in life.session.scalars(select(AuditEvent).where(
        AuditEvent.case_reference == case.reference,
        AuditEvent.action.like("conference.%")).order_by(AuditEvent.id))]
    assert audit.count("conference.action_chased") == 3
    assert "conference.reminders_restarted" in audit


def test_the_officer_may_record_actions_done_or_stop_following_them(life):
    case = held_conference(life)
    youth_visit, patrol, letter = actions(life, case)
    complete_conference_action(life.session, letter, by="olivia", at=utc(2027, 3, 15, 12))
    for moment in (utc(2027, 3, 17, 17, 1), utc(2027, 3, 19, 17, 1), utc(2027, 3, 24, 17, 1),
                   utc(2027, 3, 26, 17, 1), utc(2027, 4, 2, 16, 1)):
        life.at(moment)
    assert only(life, case).name == "conference_actions_overdue"
    complete(life, case, {"done_actions": ["2"], "decision": "stop_tracking",
                          "note": "Patrols confirmed by phone; the visit is no longer needed."})
    assert (patrol.status, patrol.done_by) == (ActionStatus.DONE, "olivia")
    assert youth_visit.status is ActionStatus.DROPPED
    assert instance(life, case).status is InstanceStatus.COMPLETED


def test_a_conference_that_did_not_take_place_is_scheduled_again(life):
    case = life.open(MON)
    start_stage(life.session, life.engine, case.reference, PROCESS, actor="olivia")
    complete(life, case, SCHEDULE)
    life.at(utc(2027, 3, 10, 10, 1))
    complete(life, case, {"held": False, "summary": "The police could not attend."})
    assert conference(life, case).status is ConferenceStatus.NOT_HELD
    assert only(life, case).name == "schedule_conference"
    complete(life, case, {**SCHEDULE, "conference_at": "2027-03-17T10:00:00+00:00"})
    assert [c.status for c in life.session.scalars(conferences_for_case(case))] == [
        ConferenceStatus.NOT_HELD, ConferenceStatus.SCHEDULED]
    life.at(utc(2027, 3, 17, 10, 1))
    complete(life, case, {**HELD, "actions": []})
    assert instance(life, case).status is InstanceStatus.COMPLETED   # nothing to follow


def test_badly_written_actions_are_refused_line_by_line(life):
    case = life.open(MON)
    start_stage(life.session, life.engine, case.reference, PROCESS, actor="olivia")
    complete(life, case, SCHEDULE)
    life.at(utc(2027, 3, 10, 10, 1))
    bad = {**HELD, "attendees": ["police", "martians"], "legal_basis": None,
           "actions": ["Visit | nobody | 2027-03-17", "Just do something",
                       "Patrol | police | 2027-02-01", "Patrol | police | 17/03/2027",
                       "Warn | partner_user_missing | 2027-03-17"]}
    bad.pop("legal_basis")
    with pytest.raises(FormInvalid) as info, life.session.begin_nested():
        complete(life, case, bad)
    errors = info.value.errors
    assert set(errors) == {"attendees.1", "legal_basis", "actions.0", "actions.1", "actions.2",
                           "actions.3", "actions.4"}
    assert errors["actions.0"].startswith("line 1: “nobody” is neither an agency")
    assert errors["actions.1"] == "line 2: write it as: action | owner | YYYY-MM-DD"
    assert errors["actions.2"] == "line 3: the due date must not be in the past"
    assert errors["actions.3"] == "line 4: the due date must be a date as YYYY-MM-DD"
    assert only(life, case).name == "record_conference"
