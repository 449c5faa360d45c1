"""The ASB lifecycle, part 1, driven through the shipped diagrams with the product clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cases.operations import case_by_reference
from engine.models import ProcessInstance, TaskStatus
from tests.lifecycle_support import new_life

XMAS_EVE = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
MILL_LANE = "14 Mill Lane, Chesterfield S40 1AB"
ASSESSMENT = {"harm": "medium", "community_impact": "low", "child_at_risk": False,
              "vulnerable_adult": False, "raise_priority": False,
              "vulnerability": {"personal": False, "situational": True, "incidental": False}}
@pytest.fixture
def life(db_session):
    return new_life(db_session)


CONTACT = {"contacted_at": "2026-12-29T11:00:00+00:00", "method": "phone",
           "summary": "Talked through the diary sheets"}


def test_hate_report_on_christmas_eve_is_priority_one_with_a_named_officer(life):
    case = life.open(XMAS_EVE, incident={
        "occurred_at": "2026-12-23T23:30:00+00:00", "location": MILL_LANE,
        "description": "Racist abuse shouted at my door", "category": "personal",
        "hate_strands": ["race"]})
    assert case.priority == 1
    assert case.first_contact_due_at == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)
    assert case.case_officer == "olivia"  # covers St Helen's, the ward of S40 1AB
    (task,) = life.open_tasks(case.reference)
    assert (task.name, task.assignee, task.role) == ("assess_risk", "olivia", "officer")
    assert task.due_at == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)
    (ack,) = life.outbox(case.reference)
    assert ack.channel == "email" and ack.template == "acknowledgement"
    for promised in (case.reference, "Olivia Officer", "01246 111222",
                     "olivia@council.example.org", "Diary sheets", "Evidence we may ask for",
                     "Case Review", "complain"):
        assert promised in ack.body_text


def test_first_contact_escalates_to_the_team_leader_when_the_deadline_passes(life):
    case = life.open(XMAS_EVE, incident={
        "occurred_at": "2026-12-23T23:30:00+00:00", "location": MILL_LANE,
        "description": "Racist abuse", "category": "personal", "hate_strands": ["race"]})
    ref = case.reference
    life.complete(ref, "assess_risk", ASSESSMENT)
    contact = life.task(ref, "first_contact")
    assert contact.due_at == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)
    life.at(datetime(2026, 12, 29, 16, 59, tzinfo=UTC))
    assert [t.name for t in life.open_tasks(ref)] == ["first_contact"]
    life.at(datetime(2026, 12, 29, 17, 1, tzinfo=UTC))
    overdue = life.task(ref, "first_contact_overdue")
    assert (overdue.role, overdue.assignee) == ("team_leader", "tara")
    assert case_by_reference(life.session, ref).first_contact_breached_at is not None
    assert life.task(ref, "first_contact").state is TaskStatus.OPEN  # stays until done
    life.complete(ref, "first_contact", dict(CONTACT, contacted_at="2026-12-30T09:00:00+00:00"))
    names = [t.name for t in life.open_tasks(ref)]
    assert "first_contact_overdue" not in names and names == ["agree_action_plan"]
    assert case_by_reference(life.session, ref).first_contact_in_time is False


def _through_first_contact(life, at=XMAS_EVE, **report):
    case = life.open(at, **report)
    life.complete(case.reference, "assess_risk", ASSESSMENT)
    life.complete(case.reference, "first_contact", CONTACT)
    return case


PLAN = {"actions": ["Send diary sheets", "Warning letter to number 14"],
        "update_frequency": "weekly", "agreed_with_reporter": True}


def test_priority_two_gets_five_working_days_and_the_officer_may_raise_it(life):
    received = datetime(2026, 12, 23, 9, 0, tzinfo=UTC)
    case = life.open(received)
    assert case.priority == 2
    assert case.first_contact_due_at == datetime(2027, 1, 4, 17, 0, tzinfo=UTC)
    life.complete(case.reference, "assess_risk", dict(ASSESSMENT, raise_priority=True))
    assert case.priority == 1  # recomputed from received_at: Thu 24 Dec 17:00
    assert case.first_contact_due_at == datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    assert life.task(case.reference, "first_contact").due_at == case.first_contact_due_at


def test_an_assessment_can_never_lower_the_priority(life):
    case = life.open(XMAS_EVE, vulnerability={"child_at_risk": True})
    assert case.priority == 1 and case.safeguarding
    life.complete(case.reference, "assess_risk", ASSESSMENT)  # nothing of concern now
    assert case.priority == 1 and case.safeguarding


def test_updates_recur_at_the_agreed_frequency_and_move_when_sent_early(life):
    case = _through_first_contact(life)
    ref = case.reference
    life.at(datetime(2026, 12, 30, 10, 0, tzinfo=UTC))  # Wed
    life.complete(ref, "agree_action_plan", PLAN)
    # weekly = 5 working days from Wed 30 Dec: 31 Dec, 4, 5, 6, 7 Jan -> Thu 7 Jan 17:00.
    assert case.next_update_due_at == datetime(2027, 1, 7, 17, 0, tzinfo=UTC)
    assert [t.name for t in life.open_tasks(ref)] == ["work_case"]
    life.at(datetime(2027, 1, 7, 17, 1, tzinfo=UTC))
    update = life.task(ref, "update_reporter")
    assert (update.assignee, update.due_at) == ("olivia", datetime(2027, 1, 7, 17, 0, tzinfo=UTC))
    life.complete(ref, "update_reporter", {"method": "email", "summary": "Warning letter sent"})
    assert case.next_update_due_at == datetime(2027, 1, 14, 17, 0, tzinfo=UTC)
    assert life.outbox(ref)[-1].template == "update"
    # An update logged early from the case file moves the next one on from then.
    from tasks import cases_service

    life.at(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))  # Mon
    cases_service.log_update(life.session, life.engine, ref, method="phone",
                             summary="Called with news", actor="olivia")
    assert case.next_update_due_at == datetime(2027, 1, 18, 17, 0, tzinfo=UTC)
    life.at(datetime(2027, 1, 14, 17, 1, tzinfo=UTC))
    assert [t.name for t in life.open_tasks(ref)] == ["work_case"]  # moved: not due yet
    life.at(datetime(2027, 1, 18, 17, 1, tzinfo=UTC))
    assert sorted(t.name for t in life.open_tasks(ref)) == ["update_reporter", "work_case"]


def test_finishing_the_work_stops_updates_and_closure_tells_the_reporter(life):
    case = _through_first_contact(life)
    ref = case.reference
    life.complete(ref, "agree_action_plan", PLAN)
    life.at(datetime(2027, 1, 8, 9, 0, tzinfo=UTC))
    assert "update_reporter" in [t.name for t in life.open_tasks(ref)]
    life.complete(ref, "work_case", {"outcome": "Noise stopped after the warning"})
    assert [t.name for t in life.open_tasks(ref)] == ["close_case"]
    life.at(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))  # no more update tasks ever open
    assert [t.name for t in life.open_tasks(ref)] == ["close_case"]
    life.complete(ref, "close_case", {"closure_reason": "resolved", "reporter_told": True,
                                      "satisfaction_asked": True, "summary": "Resolved"})
    assert str(case.status) == "closed" and str(case.closure_reason) == "resolved"
    assert case.retention_until.year == 2033  # six years, the default in force
    closure = life.outbox(ref)[-1]
    assert closure.template == "closure"
    assert "Case Review" in closure.body_text and "satisfied" in closure.body_text
    assert life.open_tasks(ref) == []


def test_messages_any_time_open_their_tasks_without_disturbing_the_case(life):
    from tasks import cases_service

    case = _through_first_contact(life)
    ref = case.reference
    life.at(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))
    outcome = cases_service.receive_incident(life.session, life.engine, ref, {
        "occurred_at": "2026-12-29T22:00:00+00:00", "location": "14 Mill Lane",
        "description": "Shouting again"}, actor="api")
    assert outcome.how == "added" and len(case.incidents) == 2
    review = life.task(ref, "review_incident")
    assert (review.assignee, review.role) == ("olivia", "officer")
    cases_service.send_event(life.session, life.engine, ref, "change_of_circumstances",
                             {"note": "x"}, actor="api")
    assert life.task(ref, "review_risk").role == "officer"
    # A Case Review application and a complaint each start their own process, under their own
    # reference, with the case's reporter as the applicant.
    for name, process, prefix in (("case_review_application", "asb_case_review", "CR-"),
                                  ("complaint", "asb_complaint", "CMP-")):
        cases_service.send_event(life.session, life.engine, ref, name,
                                 {"description": "The noise has gone on for months"},
                                 actor="api")
        (row,) = life.session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_id == process)).all()
        assert row.business_key.startswith(prefix)
    cases_service.send_event(life.session, life.engine, ref, "major_development",
                             {"summary": "A warning letter was sent today."}, actor="olivia")
    notice = life.outbox(ref)[-1]
    assert notice.template == "major_development"
    assert "A warning letter was sent today." in notice.body_text
    assert "agree_action_plan" in [t.name for t in life.open_tasks(ref)]  # main path intact


def test_no_safe_written_channel_gives_the_officer_a_phone_task(life):
    case = life.open(XMAS_EVE, reporter={
        "name": "Sam Quiet", "phone": "07700 900999",
        "contact_preferences": {"channels": ["phone"], "unsafe_channels": ["sms", "letter"],
                                "no_voicemail": True}})
    assert life.outbox(case.reference) == []
    call = life.task(case.reference, "phone_reporter")
    assert (call.assignee, call.process_id) == ("olivia", "asb_phone_call")


def test_messages_wait_for_the_reporters_safe_times(life):
    friday_night = datetime(2027, 1, 8, 22, 0, tzinfo=UTC)
    case = life.open(friday_night, reporter={
        "name": "Rita Reporter", "email": "rita@example.org",
        "contact_preferences": {"channels": ["email"],
                                "safe_times": [{"days": "mon-fri", "from": "09:00",
                                                "to": "17:00"}]}},
        incident={"occurred_at": "2027-01-08T21:00:00+00:00", "location": "Mill Lane",
                  "description": "Noise", "category": "nuisance", "hate_strands": []})
    (ack,) = life.outbox(case.reference)
    assert ack.not_before == datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # Monday 09:00


def test_a_closed_case_reopens_within_28_days_and_later_starts_a_linked_case(life):
    from tasks import cases_service

    case = _through_first_contact(life)
    ref = case.reference
    life.complete(ref, "agree_action_plan", PLAN)
    life.complete(ref, "work_case", {"outcome": "Quiet"})
    life.at(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    life.complete(ref, "close_case", {"closure_reason": "resolved", "reporter_told": True,
                                      "summary": "Quiet now"})
    life.at(datetime(2027, 2, 1, 10, 0, tzinfo=UTC))  # exactly 28 days later
    again = cases_service.receive_incident(life.session, life.engine, ref, {
        "occurred_at": "2027-01-31T22:00:00+00:00", "location": "14 Mill Lane",
        "description": "It started again"}, actor="api")
    assert again.how == "reopened" and again.case.reference == ref
    assert str(case.status) == "open" and case.case_officer == "olivia"
    assert [t.name for t in life.open_tasks(ref)] == ["assess_risk"]  # intake skipped
    # Close again; a month and a day later a new incident makes a new, linked case.
    life.complete(ref, "assess_risk", ASSESSMENT)
    life.complete(ref, "first_contact", dict(CONTACT, contacted_at="2027-02-01T11:00:00+00:00"))
    life.complete(ref, "agree_action_plan", PLAN)
    life.complete(ref, "work_case", {"outcome": "Quiet"})
    life.complete(ref, "close_case", {"closure_reason": "resolved", "reporter_told": True,
                                      "summary": "Quiet"})
    life.at(datetime(2027, 3, 2, 10, 0, tzinfo=UTC))  # 29 days after closing
    later = cases_service.receive_incident(life.session, life.engine, ref, {
        "occurred_at": "2027-03-01T22:00:00+00:00", "location": "14 Mill Lane",
        "description": "Again"}, actor="api")
    assert later.how == "new_case" and later.case.reference != ref
    assert later.case.linked_from == ref and later.case.repeat_victim


def test_repeat_reports_make_a_repeat_victim_and_link_the_open_cases(life):
    first = life.open(XMAS_EVE)
    assert first.priority == 2
    second = life.open(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))
    assert second.repeat_victim and second.priority == 1  # 2 reports within 14 days
    from cases.operations import links_of

    assert [c.reference for c, _why in links_of(life.session, second)] == [first.reference]


def test_assignment_falls_back_to_the_least_busy_officer_outside_known_wards(life):
    far = {"occurred_at": "2026-12-22T23:30:00+00:00", "location": "1 Moor Road, Nowhere",
           "description": "Noise", "category": "nuisance", "hate_strands": []}
    first = life.open(XMAS_EVE, incident=far, reporter={
        "name": "A One", "email": "a1@example.org", "address": "1 Moor Road"})
    second = life.open(XMAS_EVE, incident=far, reporter={
        "name": "B Two", "email": "b2@example.org", "address": "2 Moor Road"})
    # Nobody covers the area: the least busy officer, then the next (ties by name).
    assert (first.case_officer, second.case_officer) == ("olivia", "oscar")


def test_without_any_officer_the_case_waits_as_an_incident_a_manager_sees(db_session):
    from engine.models import Incident as EngineIncident
    from tests.lifecycle_support import Lifecycle

    bare = Lifecycle(db_session)  # no people at all
    case = bare.open(XMAS_EVE)
    (incident,) = db_session.scalars(select(EngineIncident)).all()
    assert incident.task_name == "assign_officer" and "no active officer" in incident.message
    assert case.priority == 2  # triage still happened before assignment stopped


def test_first_contact_in_time_is_measured_as_such(life):
    case = _through_first_contact(life)
    assert case.first_contact_in_time is True
    assert str(case.stage) == "contact"


def test_a_team_leader_can_hand_the_case_to_another_officer(life):
    from cases.records import CaseDataInvalid
    from tasks import cases_service

    case = life.open(XMAS_EVE)
    ref = case.reference
    with pytest.raises(CaseDataInvalid):
        cases_service.reassign_officer(life.session, life.engine, ref, "oscar", actor="olivia")
    assert case.case_officer == "olivia"
    cases_service.reassign_officer(life.session, life.engine, ref, "oscar", actor="tara")
    assert case.case_officer == "oscar"
    assert life.task(ref, "assess_risk").assignee == "oscar"  # the open task moved
    life.complete(ref, "assess_risk", ASSESSMENT, actor="oscar")
    assert life.task(ref, "first_contact").assignee == "oscar"  # and later tasks follow
    with pytest.raises(CaseDataInvalid):
        cases_service.reassign_officer(life.session, life.engine, ref, "tara", actor="tara")


def test_people_named_in_a_report_join_the_case_and_link_cases_about_them(life):
    neighbour = {"role": "reported_person", "name": "Nigel Neighbour",
                 "address": "14 Mill Lane, Chesterfield S40 1AB"}
    first = life.open(XMAS_EVE, people=[neighbour, {"role": "witness", "name": "Wes Witness",
                                                     "phone": "07700 900555"}])
    roles = sorted(str(p.role) for p in first.parties)
    assert roles == ["reported_person", "reporter", "victim", "witness"]
    other_street = {"occurred_at": "2026-12-29T20:00:00+00:00", "location": "The park",
                    "description": "Threats", "category": "personal", "hate_strands": []}
    second = life.open(datetime(2026, 12, 30, 9, 0, tzinfo=UTC), incident=other_street,
                       reporter={"name": "Pat Other", "email": "pat@example.org",
                                 "address": "3 Park Road"}, people=[neighbour])
    from cases.operations import links_of

    assert [(c.reference, str(why)) for c, why in links_of(life.session, second)] == [
        (first.reference, "same_reported_person")]


def test_a_report_naming_people_badly_is_refused_field_by_field(life):
    from cases.records import CaseDataInvalid

    with pytest.raises(CaseDataInvalid) as info:
        life.open(XMAS_EVE, people=[{"role": "suspect", "name": "X"}, "Bob"])
    assert set(info.value.errors) == {"people.0.role", "people.1"}


def test_a_contact_time_before_the_report_is_refused_on_the_form_not_an_incident(life):
    from engine.errors import FormInvalid
    from engine.models import Incident as EngineIncident

    case = life.open(XMAS_EVE)
    life.complete(case.reference, "assess_risk", ASSESSMENT)
    contact = life.task(case.reference, "first_contact")
    with pytest.raises(FormInvalid) as info:
        life.complete(case.reference, "first_contact",
                      dict(CONTACT, contacted_at="2026-12-24T09:00:00+00:00"))
    assert list(info.value.errors) == ["contacted_at"]
    assert contact.state is TaskStatus.OPEN  # the caller rolls back; nothing is recorded
    assert life.session.scalars(select(EngineIncident)).all() == []


def test_related_cases_are_linked_on_the_record_not_copied_into_the_workflow(life):
    from cases.matching import links_of

    first = life.open(XMAS_EVE)
    second = life.open(XMAS_EVE)
    third = life.open(XMAS_EVE)      # the same street as the other two
    linked = {other.reference for other, _reason in links_of(life.session, third)}
    assert linked == {first.reference, second.reference}
    (row,) = life.session.scalars(select(ProcessInstance).where(
        ProcessInstance.business_key == third.reference,
        ProcessInstance.process_id == "asb_case"))
    # A street with hundreds of open cases must not make every task carry their references.
    assert first.reference not in row.state_json and second.reference not in row.state_json


def test_closing_the_case_ends_its_running_stages_and_nothing_more_is_sent(life):
    from cases.audit import AuditEvent
    from cases.operations import add_party
    from engine.models import HumanTask, InstanceStatus
    from tasks.stages import start_stage

    case = _through_first_contact(life)
    ref = case.reference
    life.complete(ref, "agree_action_plan", PLAN)
    add_party(life.session, case, "reported_person",
              {"name": "Nigel Neighbour", "address": "14 Mill Lane, Chesterfield S40 1AA"})
    stage = start_stage(life.session, life.engine, ref, "asb_legal_warning", actor="olivia")
    (draft,) = [t for t in life.open_tasks(ref) if t.process_id == "asb_legal_warning"]
    assert draft.name == "prepare_warning_letter"
    life.complete(ref, "work_case", {"outcome": "The reporter moved away"})
    life.complete(ref, "close_case", {"closure_reason": "resolved", "reporter_told": True,
                                      "satisfaction_asked": True, "summary": "Moved away"})
    assert str(case.status) == "closed"
    life.session.refresh(stage)
    assert stage.status is InstanceStatus.CANCELLED
    assert life.open_tasks(ref) == []
    cancelled = life.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == stage.id)).one()
    assert cancelled.state is TaskStatus.CANCELLED
    sent = len(life.outbox(ref))
    life.at(datetime(2027, 6, 1, 9, 0, tzinfo=UTC))   # months later: no reminder, no letter
    assert life.open_tasks(ref) == [] and len(life.outbox(ref)) == sent
    (event,) = life.session.scalars(select(AuditEvent).where(
        AuditEvent.case_reference == ref, AuditEvent.action == "instance_cancelled")).all()
    assert event.summary["reason"] == "The case was closed" and event.actor == "olivia"
    assert stage.ended_at is not None
