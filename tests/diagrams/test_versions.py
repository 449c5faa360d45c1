"""Versions of the shipped processes: cases per version, and each case keeps the set of
diagrams it started with (stages and the processes they start included) until migrated."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from cases.operations import add_party
from engine import clock
from engine.definitions import instance_counts
from engine.migration import migrate_instance, migrations_of
from engine.models import DefinitionVersion, ProcessInstance
from tasks.stages import start_stage
from tasks.versions import diff_versions, plan_version, processes, running_on, versions_of
from tests.diagrams.test_migration import (
    NEW_LABEL,
    REFERRAL,
    diagram,
    publish,
    rename,
    with_a_check_after_the_referral,
)
from tests.lifecycle_support import new_life

EARLY = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
NIGEL = {"name": "Nigel Neighbour", "address": "14 Mill Lane, Chesterfield S40 1AB"}
PARTNERS = {
    "agencies": ["police"],
    "disclose": {
        "reporter_contact_details": True,
        "incident_details": False,
        "risk_assessment": False,
        "reported_person_details": True,
    },
    "legal_basis": "crime_and_disorder_act_s115",
    "reason": "Please patrol Mill Lane at night.",
    "tell_reporter": False,
}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def life(db_session):
    clock.set_now(EARLY)
    return new_life(db_session)


def open_case(life, at):
    case = life.open(at)
    add_party(life.session, case, "reported_person", NIGEL)
    return case


def stage(life, case, process="asb_safeguarding", actor="olivia"):
    return start_stage(life.session, life.engine, case.reference, process, actor=actor)


def titles(life, row):
    return [t.title for t in life.open_tasks(row.business_key) if t.instance_id == row.id]


def test_each_version_shows_how_many_cases_run_on_it_and_have_finished(life):
    done = open_case(life, utc(2027, 3, 1, 10, 0))
    done_row = stage(life, done)
    waiting = open_case(life, utc(2027, 3, 1, 10, 5))
    waiting_row = stage(life, waiting)
    life.at(utc(2027, 3, 1, 11, 30))
    life.engine.complete(life.session, life.open_tasks(done.reference)[-1].id, REFERRAL, "olivia")
    v2 = publish(life, with_a_check_after_the_referral(diagram()), utc(2027, 3, 1, 12, 0))
    later = open_case(life, utc(2027, 3, 1, 13, 0))
    later_row = stage(life, later)
    v1 = done_row.definition_id
    assert {later_row.definition_id, waiting_row.definition_id} == {v2.id, v1}
    counts = instance_counts(life.session, "asb_safeguarding")
    assert (counts[v1].running, counts[v1].finished, counts[v1].running_cases) == (1, 1, 1)
    assert (counts[v2.id].running, counts[v2.id].finished) == (1, 0)
    migrate_instance(
        life.session, life.engine, waiting_row.id, v2.id, actor="petra", reason="Check receipt"
    )
    (moved,) = life.session.scalars(migrations_of(waiting.reference))
    assert (moved.instance_id, moved.to_definition_id, moved.reason) == (
        waiting_row.id,
        v2.id,
        "Check receipt",
    )
    diff = diff_versions(life.session, life.engine, v1, v2.id)
    assert [a.element_id for a in diff.added] == ["confirm_safeguarding_referral"]
    assert diff.as_dict()["to_version"] == 2
    rows = versions_of(life.session, "asb_safeguarding")
    assert [(r.version, r.current, r.published, r.running, r.finished) for r in rows] == [
        (2, True, True, 2, 0),
        (1, False, True, 0, 1),
    ]
    assert rows[0].as_dict()["created_by"] == "petra"
    (row,) = [p for p in processes(life.session) if p.process_id == "asb_safeguarding"]
    assert (row.current_version, row.versions, row.running, row.running_cases) == (2, 2, 2, 2)
    assert [r.id for r in running_on(life.session, v2.id)] == [waiting_row.id, later_row.id]


def test_the_counts_for_every_version_are_one_query(life):
    for minute in (0, 5):
        stage(life, open_case(life, utc(2027, 3, 1, 10, minute)))
    life.session.flush()
    statements = []

    def count(*_args):
        statements.append(1)

    connection = life.session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        counts = instance_counts(life.session)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert len(statements) == 1
    running = {
        life.session.get(DefinitionVersion, def_id).process_id: c.running
        for def_id, c in counts.items()
    }
    assert running["asb_case"] == 2 and running["asb_safeguarding"] == 2


def test_a_stage_runs_the_version_in_force_when_its_case_started(life):
    old_case = open_case(life, utc(2027, 3, 1, 10, 0))
    v2 = publish(life, with_a_check_after_the_referral(diagram()), utc(2027, 3, 1, 12, 0))
    new_case = open_case(life, utc(2027, 3, 2, 10, 0))
    old_stage = stage(life, old_case)
    new_stage = stage(life, new_case)
    assert titles(life, old_stage) == ["Make the safeguarding referral"]
    assert titles(life, new_stage) == [NEW_LABEL]
    assert new_stage.definition_id == v2.id != old_stage.definition_id
    # Moved onto version 2, the case starts that stage on version 2 from then on ...
    clock.set_now(utc(2027, 3, 2, 11, 0))
    migrate_instance(life.session, life.engine, old_stage.id, v2.id, actor="petra", reason="Now")
    v3 = publish(
        life, rename(diagram(), "make_safeguarding_referral", "Refer now"), utc(2027, 3, 3, 9, 0)
    )
    again = stage(life, old_case)
    assert (again.definition_id, titles(life, again)) == (v2.id, [NEW_LABEL])
    # ... while a case opened after version 3 runs version 3.
    newest = stage(life, open_case(life, utc(2027, 3, 3, 10, 0)))
    assert (newest.definition_id, titles(life, newest)) == (v3.id, ["Refer now"])


def test_a_case_moved_to_a_new_version_starts_stages_in_force_at_that_move(life):
    case = open_case(life, utc(2027, 3, 1, 10, 0))
    (case_row,) = life.engine.instances_for(life.session, case.reference)
    v2 = publish(life, with_a_check_after_the_referral(diagram()), utc(2027, 3, 1, 12, 0))
    new_case_version = publish(
        life,
        rename(diagram("asb_case.bpmn"), "work_case", "Carry out the agreed plan"),
        utc(2027, 3, 1, 13, 0),
    )
    migrate_instance(
        life.session,
        life.engine,
        case_row.id,
        new_case_version.id,
        actor="petra",
        reason="Clearer wording",
    )
    row = stage(life, case)
    assert (row.definition_id, titles(life, row)) == (v2.id, [NEW_LABEL])


def test_processes_a_stage_starts_run_the_versions_of_its_case(life):
    root = diagram("support.bpmn")
    rename(root, "choose_referral_agencies", "Choose the partner agencies")
    rename(root, "referral_unanswered", "The partner has not answered yet")
    old_case = open_case(life, utc(2027, 3, 1, 10, 0))
    publish(life, root, utc(2027, 3, 1, 12, 0))
    new_case = open_case(life, utc(2027, 3, 2, 10, 0))
    trackers = {}
    for case in (old_case, new_case):
        referral = stage(life, case, "asb_referrals")
        (choose,) = [t for t in life.open_tasks(case.reference) if t.instance_id == referral.id]
        trackers[case.reference] = choose.title
        life.engine.complete(life.session, choose.id, PARTNERS, "olivia")
    assert trackers == {
        old_case.reference: "Choose agencies and what to share",
        new_case.reference: "Choose the partner agencies",
    }
    tracking = {
        row.business_key: row.definition.version
        for row in life.session.scalars(
            select(ProcessInstance).where(ProcessInstance.process_id == "asb_referral_tracking")
        )
    }
    assert tracking == {old_case.reference: 1, new_case.reference: 2}


def test_called_processes_are_bundled_with_the_process_that_calls_them(life):
    case_version = life.engine.definitions.published(life.session, "asb_case")
    closure = publish(
        life, rename(diagram("closure.bpmn"), "close_case", "Close it, now"), utc(2027, 3, 1, 12, 0)
    )
    assert closure.version == 2
    # The version cases started on keeps the closure it was bundled with ...
    _spec, called = life.engine.definitions.specs(case_version)
    assert called["asb_closure"].task_specs["close_case"].bpmn_name == "Close the case"
    # ... and publishing the closure bundled asb_case again, so new cases run the new one.
    newer = life.engine.definitions.published(life.session, "asb_case")
    assert newer.id != case_version.id and newer.version == case_version.version + 1
    _spec, called = life.engine.definitions.specs(newer)
    assert called["asb_closure"].task_specs["close_case"].bpmn_name == "Close it, now"


def test_a_dry_run_for_every_case_on_a_version(life):
    first = open_case(life, utc(2027, 3, 1, 10, 0))
    second = open_case(life, utc(2027, 3, 1, 10, 5))
    rows = [stage(life, first), stage(life, second)]
    v2 = publish(life, with_a_check_after_the_referral(diagram()), utc(2027, 3, 1, 12, 0))
    plans = plan_version(life.session, life.engine, rows[0].definition_id, v2.id)
    assert [(p.business_key, p.safe) for p in plans] == [
        (first.reference, True),
        (second.reference, True),
    ]
    assert all(r.definition_id != v2.id for r in rows)
