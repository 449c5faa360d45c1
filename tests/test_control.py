"""Managers' control of process instances (engine/control.py), on the shipped diagrams.

Every case here is opened and worked through the real processes with the product clock; the
worker is the real ``fire_due_timers``. Each action is checked for its effect, its audit
entry (who and why), and each refusal for changing nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from engine import control
from engine.errors import TaskConflict
from engine.instance_view import details, pending_timers, step_figures
from engine.models import (
    HumanTask,
    Incident,
    IncidentStatus,
    InstanceStatus,
    ProcessInstance,
    TaskStatus,
)
from tasks import cases_service
from tasks.cases_service import CASE_PROCESS
from tests.lifecycle_support import Lifecycle, new_life

XMAS_EVE = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 29, 17, 0, tzinfo=UTC)  # first contact due for a hate report
ASSESSMENT = {"harm": "medium", "community_impact": "low", "child_at_risk": False,
              "vulnerable_adult": False, "raise_priority": False,
              "vulnerability": {"personal": False, "situational": True, "incidental": False}}
HATE = {"occurred_at": "2026-12-23T23:30:00+00:00", "location": "14 Mill Lane, S40 1AB",
        "description": "Racist abuse", "category": "personal", "hate_strands": ["race"]}


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def _case_at_first_contact(life):
    case = life.open(XMAS_EVE, incident=HATE)
    life.complete(case.reference, "assess_risk", ASSESSMENT)
    return case.reference, _main(life, case.reference)


def _main(life, ref) -> ProcessInstance:
    return life.session.scalars(select(ProcessInstance).where(
        ProcessInstance.business_key == ref, ProcessInstance.process_id == CASE_PROCESS)).one()


def _audit(life, action):
    return list(life.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                     .order_by(AuditEvent.id)))


def _snapshot(life, row):
    life.session.flush()
    life.session.refresh(row)
    tasks = sorted((t.name, t.state, t.assignee) for t in life.open_tasks(row.business_key))
    return (row.status, row.revision, row.next_timer_at, row.state_json, tasks,
            len(_audit(life, "instance_suspended")), len(life.session.scalars(
                select(AuditEvent)).all()))


def test_a_suspended_case_s_deadline_does_not_fire_until_it_is_resumed(life):
    ref, row = _case_at_first_contact(life)
    assert row.next_timer_at == DUE
    control.suspend(life.engine, life.session, row.id, "maria", "Waiting for legal advice")
    assert (row.status, row.next_timer_at, row.suspended_at) == (
        InstanceStatus.SUSPENDED, None, XMAS_EVE)
    (event,) = _audit(life, "instance_suspended")
    assert (event.actor, event.case_reference, event.object_id) == ("maria", ref, str(row.id))
    assert event.summary == {"reason": "Waiting for legal advice", "was": "running"}

    life.at(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))  # the deadline passed while held
    assert [t.name for t in life.open_tasks(ref)] == ["first_contact"]
    assert life.engine.fire_due_timers(life.session) == []
    # The officer cannot work the held case, nor claim its task.
    task = life.task(ref, "first_contact")
    with pytest.raises(TaskConflict, match="suspended"):
        life.complete(ref, "first_contact", {"contacted_at": "2026-12-30T08:00:00+00:00",
                                             "method": "phone", "summary": "Spoke"})
    with pytest.raises(TaskConflict, match="suspended"):
        life.engine.claim(life.session, task.id, "olivia")

    control.resume(life.engine, life.session, row.id, "maria", "Advice received")
    assert row.status is InstanceStatus.RUNNING and row.suspended_at is None
    assert row.next_timer_at == DUE  # overdue now: the worker's next pass fires it
    (event,) = _audit(life, "instance_resumed")
    assert (event.actor, event.summary) == ("maria", {"reason": "Advice received"})
    life.at(datetime(2026, 12, 30, 9, 1, tzinfo=UTC))
    overdue = life.task(ref, "first_contact_overdue")
    assert (overdue.role, overdue.assignee) == ("team_leader", "tara")


def test_a_message_to_a_suspended_case_waits_and_is_delivered_on_resume(life):
    ref, row = _case_at_first_contact(life)
    control.suspend(life.engine, life.session, row.id, "maria", "Checking the file")
    stored = life.engine.send_message(life.session, ref, "change_of_circumstances",
                                      {"note": "x"}, actor="api")
    assert stored.delivered_at is None
    assert "review_risk" not in [t.name for t in life.open_tasks(ref)]
    view = details(life.engine, life.session, row)
    assert [m.name for m in view.held] == ["change_of_circumstances"]
    control.resume(life.engine, life.session, row.id, "maria", "Checked")
    assert stored.instance_id == row.id and stored.delivered_at is not None
    assert life.task(ref, "review_risk").assignee == "olivia"
    assert [m.name for m in details(life.engine, life.session, row).messages] == [
        "change_of_circumstances"]


def test_a_new_case_officer_reaches_a_suspended_case_which_stays_suspended(life):
    ref, row = _case_at_first_contact(life)
    control.suspend(life.engine, life.session, row.id, "maria", "Checking the file")
    cases_service.reassign_officer(life.session, life.engine, ref, "oscar", actor="tara")
    assert (row.status, row.next_timer_at) == (InstanceStatus.SUSPENDED, None)
    assert life.task(ref, "first_contact").assignee == "oscar"


def test_cancel_ends_the_instance_and_takes_its_tasks_out_of_the_inboxes(life):
    ref, row = _case_at_first_contact(life)
    task_id = life.task(ref, "first_contact").id
    control.cancel(life.engine, life.session, row.id, "maria", "Opened in error")
    assert (row.status, row.next_timer_at, row.ended_at) == (
        InstanceStatus.CANCELLED, None, XMAS_EVE)
    assert life.open_tasks(ref) == []
    task = life.session.get(HumanTask, task_id)
    assert (task.state, task.finished_by) == (TaskStatus.CANCELLED, "maria")
    (event,) = _audit(life, "instance_cancelled")
    assert event.actor == "maria"
    assert event.summary == {"reason": "Opened in error", "was": "running",
                             "tasks_cancelled": 1, "incidents_closed": 0}
    (gone,) = _audit(life, "task_cancelled")
    assert (gone.object_id, gone.summary["reason"]) == (task_id, "Opened in error")
    # The deadline never fires on a cancelled case, and the page still reads its state.
    life.at(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))
    assert life.open_tasks(ref) == []
    assert details(life.engine, life.session, row).readable


def test_refusals_change_nothing(life):
    ref, row = _case_at_first_contact(life)
    before = _snapshot(life, row)
    with pytest.raises(control.ActionRefused, match="reason"):
        control.suspend(life.engine, life.session, row.id, "maria", "   ")
    with pytest.raises(control.ActionRefused, match="not suspended"):
        control.resume(life.engine, life.session, row.id, "maria", "Go on")
    task = life.task(ref, "first_contact")
    with pytest.raises(control.ActionRefused, match="role officer, not team_leader"):
        control.reassign(life.engine, life.session, [task.id], "tara", "team_leader", "maria",
                         "Tara knows the family")
    with pytest.raises(control.ActionRefused, match="reason"):
        control.reassign(life.engine, life.session, [task.id], "oscar", "officer", "maria", "")
    assert _snapshot(life, row) == before
    control.cancel(life.engine, life.session, row.id, "maria", "Duplicate")
    after = _snapshot(life, row)
    for act in (control.suspend, control.cancel):
        with pytest.raises(control.ActionRefused, match="ended"):
            act(life.engine, life.session, row.id, "maria", "Again")
    with pytest.raises(control.ActionRefused, match="ended"):
        control.reassign(life.engine, life.session, [task.id], "oscar", "officer", "maria", "X")
    assert _snapshot(life, row) == after


def test_reassign_moves_one_or_several_tasks_to_someone_in_the_lane_s_role(life):
    ref, row = _case_at_first_contact(life)
    cases_service.send_event(life.session, life.engine, ref, "change_of_circumstances",
                             {"note": "x"}, actor="api")
    ids = [life.task(ref, "first_contact").id, life.task(ref, "review_risk").id]
    moved = control.reassign(life.engine, life.session, ids, "oscar", "officer", "maria",
                             "Olivia is on leave")
    assert sorted(t.name for t in moved) == ["first_contact", "review_risk"]
    assert {t.name: t.assignee for t in life.open_tasks(ref)} == {
        "first_contact": "oscar", "review_risk": "oscar"}
    events = _audit(life, "task_reassigned")
    assert sorted(e.object_id for e in events) == sorted(ids)
    assert {(e.actor, e.summary["from"], e.summary["to"], e.summary["reason"])
            for e in events} == {("maria", "olivia", "oscar", "Olivia is on leave")}
    life.complete(ref, "first_contact", {"contacted_at": "2026-12-28T11:00:00+00:00",
                                         "method": "phone", "summary": "Spoke"}, actor="oscar")
    assert "agree_action_plan" in [t.name for t in life.open_tasks(ref)]


def test_retry_reruns_the_failing_service_task_once_the_cause_is_fixed(db_session):
    bare = Lifecycle(db_session)  # nobody to assign the case to: assign_officer fails
    case = bare.open(XMAS_EVE)
    row = _main(bare, case.reference)
    (incident,) = db_session.scalars(select(Incident)).all()
    assert row.status is InstanceStatus.INCIDENT and incident.task_name == "assign_officer"
    control.suspend(bare.engine, db_session, row.id, "maria", "Hold")
    with pytest.raises(control.ActionRefused, match="resume it first"):
        control.retry(bare.engine, db_session, incident.id, "maria", "Try again")
    control.resume(bare.engine, db_session, row.id, "maria", "Go")
    assert row.next_retry_at is not None  # the automatic retries are due again

    control.retry(bare.engine, db_session, incident.id, "maria", "Still nobody")
    assert (incident.status, incident.attempts) == (IncidentStatus.OPEN, 2)
    bare.people()  # an officer starts work: the step can succeed now
    control.retry(bare.engine, db_session, incident.id, "maria", "Olivia has started")
    assert incident.status is IncidentStatus.RESOLVED
    assert row.status is InstanceStatus.RUNNING
    assert [t.name for t in bare.open_tasks(case.reference)] == ["assess_risk"]
    events = _audit(bare, "incident_retried")
    assert [(e.actor, e.task_name, e.summary["reason"]) for e in events] == [
        ("maria", "assign_officer", "Still nobody"),
        ("maria", "assign_officer", "Olivia has started")]
    with pytest.raises(control.ActionRefused, match="resolved already"):
        control.retry(bare.engine, db_session, incident.id, "maria", "Once more")


def test_the_instance_page_lists_timers_variables_and_the_steps_taken(life):
    ref, row = _case_at_first_contact(life)
    view = details(life.engine, life.session, row, withhold=lambda name: "note" in name)
    assert [(t.name, t.assignee, t.state, t.finished_by) for t in view.tasks] == [
        ("assess_risk", "olivia", TaskStatus.COMPLETED, "olivia"),
        ("first_contact", "olivia", TaskStatus.OPEN, None)]
    (timer,) = pending_timers(life.engine.load(row, life.session))
    assert (timer.element_id, timer.due_at, timer.deadline) == (
        "first_contact_deadline", DUE, True)
    values = {v.name: v.value for v in view.variables}
    assert values["case_officer"] == "olivia" and values["priority"] == "1"
    assert values["hate"] == "yes" and values["case_reference"] == ref
    assert not any(v.value.startswith("{") for v in view.variables)


def test_the_heatmap_counts_where_cases_are_and_the_time_each_step_took(life):
    first = life.open(XMAS_EVE, incident=HATE).reference
    second = life.open(XMAS_EVE).reference
    life.at(datetime(2026, 12, 24, 12, 0, tzinfo=UTC))
    life.complete(first, "assess_risk", ASSESSMENT)  # two hours after it opened
    version = _main(life, first).definition_id
    figures = {(s.process_id, s.element_id): s for s in step_figures(life.session, version)}
    assess = figures[("asb_risk_assessment", "assess_risk")]
    assert (assess.now, assess.finished, assess.average_seconds) == (1, 1, 7200.0)
    contact = figures[("asb_first_contact", "first_contact")]
    assert (contact.now, contact.finished, contact.average_seconds) == (1, 0, None)
    assert second
