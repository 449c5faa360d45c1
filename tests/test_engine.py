"""Workflow tests of the case engine on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cases.audit import AuditEvent
from engine import clock
from engine.errors import (
    DiagramInvalid,
    FormInvalid,
    StateFormatUnknown,
    TaskConflict,
    TaskNotFound,
)
from engine.forms import load_directory as load_forms
from engine.models import (
    DefinitionVersion,
    HumanTask,
    Incident,
    IncidentStatus,
    InstanceStatus,
    TaskStatus,
)
from tests.engine_support import BPMN_DIR, DemoServices, assess_error, make_engine

FORMS_DIR = BPMN_DIR / "forms"

RECEIVED = "2026-12-24T10:00:00+00:00"  # Thursday before Christmas
CONTACT_FORM = {"contacted_at": "2026-12-29T10:00:00+00:00", "method": "phone",
                "summary": "Spoke to the reporter"}
START = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def services():
    return DemoServices()


@pytest.fixture
def engine(services):
    return make_engine(services)


@pytest.fixture
def loaded(engine, db_session):
    clock.set_now(START)
    engine.definitions.sync_directory(db_session, BPMN_DIR)
    return engine


def open_tasks(session, key):
    return list(session.scalars(select(HumanTask).where(
        HumanTask.business_key == key, HumanTask.state == TaskStatus.OPEN)
        .order_by(HumanTask.name)))


def start_demo(engine, session, key="ASB-1", **data):
    data = {"received_at": RECEIVED, "officer_name": "olivia", **data}
    return engine.start(session, "engine_demo", key, data, actor="olivia")


def complete_record(engine, session, key="ASB-1", hate=False, priority=2):
    (task,) = open_tasks(session, key)
    return engine.complete(session, task.id, {
        "hate": hate, "case_reference": key, "priority": priority,
        "first_contact_due": "2026-12-29T17:00:00+00:00"}, actor="olivia")


def assert_round_trip(engine, row):
    """A JSON round trip of the stored state gives the same workflow (Spiff's save_restore)."""
    workflow = engine.load(row)
    again = engine.serializer.dumps(workflow)
    assert json.loads(again) == json.loads(row.state_json)


def test_definitions_are_versioned_by_content(loaded, db_session, tmp_path):
    first = db_session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.process_id == "engine_demo")).all()
    assert [v.version for v in first] == [1]
    assert first[0].published
    loaded.definitions.sync_directory(db_session, BPMN_DIR)  # same content: nothing new
    assert db_session.scalar(select(func.count()).select_from(DefinitionVersion).where(
        DefinitionVersion.process_id == "engine_demo")) == 1
    changed = (BPMN_DIR / "engine_demo.bpmn").read_text().replace(
        "Record the report", "Record the report in full")
    (tmp_path / "engine_demo.bpmn").write_text(changed)
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "contact.json").write_bytes((FORMS_DIR / "contact.json").read_bytes())
    (new,) = loaded.definitions.sync_directory(db_session, tmp_path)
    assert new.version == 2 and new.content_hash != first[0].content_hash
    assert loaded.definitions.published(db_session, "engine_demo").id == new.id
    assert loaded.definitions.specs(new) is loaded.definitions.specs(new)  # parsed once


def test_start_projects_the_first_task_with_role_assignee_and_due(loaded, db_session):
    row = start_demo(loaded, db_session)
    assert row.status is InstanceStatus.RUNNING
    (task,) = open_tasks(db_session, "ASB-1")
    assert (task.name, task.title, task.role, task.assignee) == (
        "record", "Record the report", "officer", "olivia")
    # One working day after Thu 24 Dec 2026: Tue 29 Dec 17:00 London (= 17:00 UTC in winter).
    assert task.due_at == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)
    actions = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.case_reference == "ASB-1").order_by(AuditEvent.id)).all()
    assert actions == ["instance_started", "task_opened"]
    assert_round_trip(loaded, row)
    assert len(row.state_json) < len(loaded.serializer.full_json(loaded.load(row))) / 2


def test_completing_runs_service_tasks_and_opens_the_next_task(loaded, db_session, services):
    start_demo(loaded, db_session)
    result = complete_record(loaded, db_session)
    assert [c[0] for c in services.calls] == ["assess", "notify"]
    assert [t.name for t in result.next_tasks] == ["contact"]
    assert result.next_tasks[0].due_at == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)
    done = db_session.scalars(select(HumanTask).where(HumanTask.name == "record")).one()
    assert (done.state, done.finished_by) == (TaskStatus.COMPLETED, "olivia")
    event = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "task_completed")).one()
    assert event.task_name == "record"
    # Which fields changed, never what was entered: task data holds what people told us.
    assert event.summary == {"changed": ["case_reference", "first_contact_due", "hate",
                                         "priority"]}
    assert_round_trip(loaded, result.instance)


def test_gateway_condition_routes_priority_one_to_team_leader(loaded, db_session):
    start_demo(loaded, db_session)
    result = complete_record(loaded, db_session, hate=True, priority=1)
    assert [(t.name, t.role) for t in result.next_tasks] == [("approve", "team_leader")]


def test_second_completion_is_a_conflict_and_changes_nothing(loaded, db_session):
    start_demo(loaded, db_session)
    (task,) = open_tasks(db_session, "ASB-1")
    complete_record(loaded, db_session)
    revision = loaded.instances_for(db_session, "ASB-1")[0].revision
    with pytest.raises(TaskConflict):
        loaded.complete(db_session, task.id, {"priority": 1}, actor="mo")
    assert loaded.instances_for(db_session, "ASB-1")[0].revision == revision
    with pytest.raises(TaskNotFound):
        loaded.complete(db_session, "no-such-task", {}, actor="mo")
    with pytest.raises(FormInvalid):
        loaded.complete(db_session, open_tasks(db_session, "ASB-1")[0].id, {"_x": 1}, actor="mo")


def test_claim_makes_a_task_yours_and_refuses_another_holder(loaded, db_session):
    start_demo(loaded, db_session, officer_name=None)
    (task,) = open_tasks(db_session, "ASB-1")
    assert task.assignee is None
    assert loaded.claim(db_session, task.id, "mo").assignee == "mo"
    assert loaded.claim(db_session, task.id, "mo").assignee == "mo"  # holding it: fine
    with pytest.raises(TaskConflict):
        loaded.claim(db_session, task.id, "olivia")


def test_handler_bpmn_error_is_caught_by_the_boundary_event(loaded, db_session, services):
    services.fail_assess = assess_error()
    start_demo(loaded, db_session)
    result = complete_record(loaded, db_session)
    assert [t.name for t in result.next_tasks] == ["fix_assessment"]
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0
    assert result.instance.status is InstanceStatus.RUNNING


def test_uncaught_handler_failure_becomes_a_retryable_incident(loaded, db_session, services):
    services.fail_notify = ConnectionError("mail relay refused the connection")
    start_demo(loaded, db_session)
    result = complete_record(loaded, db_session)
    row = result.instance
    assert row.status is InstanceStatus.INCIDENT and result.next_tasks == []
    (incident,) = db_session.scalars(select(Incident)).all()
    assert (incident.task_name, incident.operation, incident.attempts) == (
        "notify", "demo.notify", 1)
    assert "mail relay" in incident.message
    assert row.next_retry_at == START + timedelta(minutes=1)
    # Not yet due: waking changes nothing.
    loaded.wake(db_session, row.id)
    assert incident.attempts == 1
    # Due, still failing: a second attempt, backoff doubles.
    clock.advance(timedelta(minutes=1, seconds=1))
    loaded.wake(db_session, row.id)
    assert incident.attempts == 2
    assert row.next_retry_at == clock.now() + timedelta(minutes=2)
    # Due, the relay is back: the task runs, the incident is resolved, the process moves on.
    services.fail_notify = None
    clock.advance(timedelta(minutes=3))
    loaded.wake(db_session, row.id)
    assert incident.status is IncidentStatus.RESOLVED
    assert row.status is InstanceStatus.RUNNING
    assert [t.name for t in open_tasks(db_session, "ASB-1")] == ["contact"]
    assert_round_trip(loaded, row)


def test_incident_stops_retrying_after_the_last_attempt_until_a_manager_retries(
        loaded, db_session, services):
    services.fail_notify = ConnectionError("down")
    start_demo(loaded, db_session)
    row = complete_record(loaded, db_session).instance
    for _ in range(10):
        clock.advance(timedelta(hours=1))
        loaded.wake(db_session, row.id)
    (incident,) = db_session.scalars(select(Incident)).all()
    assert incident.attempts == loaded.incidents.max_attempts
    assert incident.next_retry_at is None and row.next_retry_at is None
    assert incident.status is IncidentStatus.OPEN  # never silently dropped
    services.fail_notify = None
    loaded.retry_now(db_session, incident.id, actor="manager")
    assert incident.status is IncidentStatus.RESOLVED


def test_timer_boundary_fires_when_the_clock_passes_the_deadline(loaded, db_session):
    start_demo(loaded, db_session)
    row = complete_record(loaded, db_session).instance
    assert row.next_timer_at == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)
    clock.set_now(datetime(2026, 12, 29, 16, 59, tzinfo=UTC))
    loaded.wake(db_session, row.id)
    assert [t.name for t in open_tasks(db_session, "ASB-1")] == ["contact"]
    clock.set_now(datetime(2026, 12, 29, 17, 1, tzinfo=UTC))
    loaded.wake(db_session, row.id)
    assert [t.name for t in open_tasks(db_session, "ASB-1")] == ["chase", "contact"]
    assert row.next_timer_at is None
    assert_round_trip(loaded, row)


def test_duration_timer_then_completion(loaded, db_session):
    start_demo(loaded, db_session)
    complete_record(loaded, db_session)
    contact = next(t for t in open_tasks(db_session, "ASB-1") if t.name == "contact")
    row = loaded.complete(db_session, contact.id, CONTACT_FORM, actor="olivia").instance
    assert row.status is InstanceStatus.WAITING
    assert row.next_timer_at == START + timedelta(days=10)
    clock.advance(timedelta(days=10, seconds=1))
    loaded.wake(db_session, row.id)
    assert row.status is InstanceStatus.COMPLETED and row.ended_at is not None


def test_message_reaches_the_running_case_and_opens_an_event_subprocess(loaded, db_session):
    start_demo(loaded, db_session)
    msg = loaded.send_message(db_session, "ASB-1", "new_incident",
                              {"description": "shouting at 2am"}, actor="api")
    assert msg.delivered_at is not None and msg.instance_id is not None
    names = [t.name for t in open_tasks(db_session, "ASB-1")]
    assert names == ["record", "review_incident"]


def test_message_nobody_waits_for_is_stored_and_reported(loaded, db_session):
    start_demo(loaded, db_session)
    lost = loaded.send_message(db_session, "ASB-404", "new_incident", {"x": 1})
    odd = loaded.send_message(db_session, "ASB-1", "no_such_message", {})
    for msg in (lost, odd):
        assert msg.delivered_at is None and "waiting" in msg.note
    assert db_session.scalars(loaded.undelivered_messages()).all() == [odd, lost]
    assert db_session.scalars(loaded.undelivered_messages("ASB-404")).all() == [lost]
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "message_undelivered")) == 2


UNSAFE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="t">
  <bpmn:process id="evil" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="script"/>
    <bpmn:scriptTask id="script" name="Sneaky"><bpmn:incoming>a</bpmn:incoming>
      <bpmn:outgoing>b</bpmn:outgoing><bpmn:script>SCRIPT</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="b" sourceRef="script" targetRef="e"/>
    <bpmn:endEvent id="e"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("script", [
    "import os",
    "x = ().__class__.__mro__[1].__subclasses__()",
    "x = open('/etc/passwd').read()",
    "x = __import__('os').system('id')",
])
def test_unsafe_diagram_code_is_refused_at_load_with_the_element(engine, script):
    with pytest.raises(DiagramInvalid) as info:
        engine.definitions.parse({"evil.bpmn": UNSAFE.replace("SCRIPT", script)})
    (problem,) = info.value.problems
    assert problem["element_id"] == "script" and problem["message"]


def test_unknown_operation_is_reported_against_its_element(engine):
    text = (BPMN_DIR / "engine_demo.bpmn").read_text().replace('"demo.notify"', '"demo.fax"')
    with pytest.raises(DiagramInvalid) as info:
        engine.definitions.parse({"engine_demo.bpmn": text}, forms=load_forms(FORMS_DIR))
    assert [p["element_id"] for p in info.value.problems] == ["notify"]
    assert "demo.fax" in info.value.problems[0]["message"]


def test_malformed_xml_is_a_clear_problem(engine):
    with pytest.raises(DiagramInvalid) as info:
        engine.definitions.parse({"broken.bpmn": b"<bpmn:definitions"})
    assert "well-formed" in info.value.problems[0]["message"]


CALENDAR_IN_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="t">
  <bpmn:process id="reply_deadline" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="compute"/>
    <bpmn:scriptTask id="compute"><bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>
      <bpmn:script>reply_by = due_after_working_days(received_at, 5)</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="b" sourceRef="compute" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>b</bpmn:incoming>
      <bpmn:outgoing>c</bpmn:outgoing>
      <bpmn:timerEventDefinition>
        <bpmn:timeDate>due_after_working_days(received_at, 1)</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="c" sourceRef="wait" targetRef="e"/>
    <bpmn:endEvent id="e"><bpmn:incoming>c</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def test_working_day_calendar_is_usable_from_scripts_and_timer_expressions(
        engine, db_session, tmp_path):
    clock.set_now(datetime(2026, 12, 23, 9, 0, tzinfo=UTC))
    (tmp_path / "deadline.bpmn").write_text(CALENDAR_IN_DIAGRAM)
    engine.definitions.sync_directory(db_session, tmp_path)
    row = engine.start(db_session, "reply_deadline", "ASB-7",
                       {"received_at": "2026-12-23T09:00:00+00:00"})
    workflow = engine.load(row, db_session)
    # Five working days from Wed 23 Dec 2026: Mon 4 Jan 2027 17:00 (DOMAIN.md).
    assert workflow.last_task.data["reply_by"] == "2027-01-04T17:00:00+00:00"
    # One working day: Thu 24 Dec (the day of receipt never counts) 17:00.
    assert row.next_timer_at == datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    clock.set_now(datetime(2026, 12, 24, 17, 1, tzinfo=UTC))
    engine.wake(db_session, row.id)
    assert row.status is InstanceStatus.COMPLETED


def test_state_in_an_unknown_format_is_refused_clearly(loaded, db_session):
    row = start_demo(loaded, db_session)
    row.serializer_version = "0.9"
    with pytest.raises(StateFormatUnknown, match="0.9"):
        loaded.load(row, db_session)


def test_call_activity_tasks_project_and_a_cycle_timer_recurs(loaded, db_session):
    row = loaded.start(db_session, "parent_case", "ASB-20",
                       {"received_at": RECEIVED, "update_cycle": "R2/PT1H"})
    (gather,) = open_tasks(db_session, "ASB-20")
    assert (gather.name, gather.role, gather.process_id) == ("gather", "officer", "child_stage")
    # Five working days after Thu 24 Dec 2026: 29, 30, 31 Dec, 4 and 5 Jan (1 Jan is a holiday).
    assert gather.due_at == datetime(2027, 1, 5, 17, 0, tzinfo=UTC)
    assert row.next_timer_at == START + timedelta(hours=1)
    assert_round_trip(loaded, row)
    for hour in (1, 2):
        clock.set_now(START + timedelta(hours=hour, seconds=1))
        loaded.wake(db_session, row.id)
        updates = [t for t in open_tasks(db_session, "ASB-20") if t.name == "update_reporter"]
        assert len(updates) == hour  # one reminder per cycle, none doubled
        assert_round_trip(loaded, row)
    assert row.next_timer_at is None  # R2: the cycle is spent
    clock.set_now(START + timedelta(hours=5))
    loaded.wake(db_session, row.id)
    assert len(open_tasks(db_session, "ASB-20")) == 3
    loaded.complete(db_session, gather.id, {"diary_sheets": 2}, actor="olivia")
    names = sorted(t.name for t in open_tasks(db_session, "ASB-20"))
    assert names == ["after", "update_reporter", "update_reporter"]
    assert_round_trip(loaded, row)


def test_fire_due_timers_parks_a_broken_instance_and_wakes_the_rest(loaded, db_session):
    rows = [loaded.start(db_session, "timer_mark", f"T-{n}",
                         {"fire_at": "2026-12-24T11:00:00+00:00", "label": f"T-{n}"})
            for n in range(3)]
    rows[1].serializer_version = "0.9"  # cannot be loaded by this build
    clock.set_now(datetime(2026, 12, 24, 11, 0, 1, tzinfo=UTC))
    woken = loaded.fire_due_timers(db_session, limit=10)
    assert sorted(woken) == sorted(r.id for r in rows)
    assert [r.status for r in rows] == [
        InstanceStatus.COMPLETED, InstanceStatus.WAITING, InstanceStatus.COMPLETED]
    assert rows[1].next_timer_at == clock.now() + timedelta(minutes=5)
    assert loaded.fire_due_timers(db_session, limit=10) == []  # parked, not spinning


def test_completion_is_checked_against_the_task_form_and_refused_field_by_field(
        loaded, db_session):
    start_demo(loaded, db_session)
    complete_record(loaded, db_session)
    contact = next(t for t in open_tasks(db_session, "ASB-1") if t.name == "contact")
    assert loaded.form_schema(db_session, contact)["required"] == [
        "contacted_at", "method", "summary"]
    revision = loaded.instances_for(db_session, "ASB-1")[0].revision
    with pytest.raises(FormInvalid) as info:
        loaded.complete(db_session, contact.id, {
            "contacted_at": "yesterday", "method": "pigeon", "colour": "red"}, actor="olivia")
    assert info.value.errors == {
        "contacted_at": "'yesterday' is not a 'date-time'",
        "method": "must be one of: phone, face_to_face, email, letter",
        "summary": "this field is required",
        "colour": "this field is not part of the form",
    }
    assert loaded.instances_for(db_session, "ASB-1")[0].revision == revision
    assert contact.state is TaskStatus.OPEN  # nothing changed
    naive = dict(CONTACT_FORM, contacted_at="2026-12-29T10:00:00")
    with pytest.raises(FormInvalid) as info:
        loaded.complete(db_session, contact.id, naive, actor="olivia")
    assert list(info.value.errors) == ["contacted_at"]
    loaded.complete(db_session, contact.id, CONTACT_FORM, actor="olivia")
    assert contact.state is TaskStatus.COMPLETED


def test_a_task_naming_a_missing_or_broken_form_is_a_problem(engine):
    text = (BPMN_DIR / "engine_demo.bpmn").read_bytes()
    with pytest.raises(DiagramInvalid) as info:
        engine.definitions.parse({"engine_demo.bpmn": text}, forms={})
    assert [(p["element_id"], p["message"]) for p in info.value.problems] == [
        ("contact", "The task names form 'contact', which has no schema.")]
    with pytest.raises(DiagramInvalid) as info:
        engine.definitions.parse({"engine_demo.bpmn": text},
                                 forms={"contact": {"type": "no-such-type"}})
    assert info.value.problems[0]["message"].startswith("Form 'contact': the form schema is")


def test_a_changed_form_makes_a_new_version(loaded, db_session, tmp_path):
    import shutil

    shutil.copytree(BPMN_DIR, tmp_path / "bpmn")
    schema = tmp_path / "bpmn" / "forms" / "contact.json"
    schema.write_text(schema.read_text().replace("What was said", "What you discussed"))
    versions = {v.process_id: v.version
                for v in loaded.definitions.sync_directory(db_session, tmp_path / "bpmn")}
    assert versions["engine_demo"] == 2
    assert versions["timer_mark"] == 1  # uses no form: unchanged


def test_a_handler_can_start_a_side_process_for_the_same_case(loaded, db_session):
    row = loaded.start(db_session, "spawner", "ASB-40", {})
    assert row.status is InstanceStatus.COMPLETED
    (side,) = loaded.instances_for(db_session, "ASB-40")
    assert side.process_id == "timer_mark" and side.status is InstanceStatus.WAITING
    assert side.next_timer_at == datetime(2030, 1, 1, tzinfo=UTC)
