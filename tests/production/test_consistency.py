"""``asb check`` finds what a crash, a restart or a bad restore could leave half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from cases.records import Case
from engine.consistency import check_instances
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.models import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from migrations.runner import upgrade
from tasks.consistency import check_system
from tests.lifecycle_support import new_life
from tests.test_lifecycle import ASSESSMENT
from web.cli import main

MONDAY = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def _problems(life, reference):
    report = check_instances(life.engine, life.session)
    return [(p.kind, p.business_key) for p in report.problems if p.business_key == reference]


def _waiting_instance(life, reference):
    return life.session.scalars(select(ProcessInstance).where(
        ProcessInstance.business_key == reference,
        ProcessInstance.next_timer_at.is_not(None)).order_by(ProcessInstance.id)).first()


def test_cases_worked_through_the_engine_pass_the_check(life):
    case = life.open(MONDAY)
    first = life.open_tasks(case.reference)[0]
    assert first is not None
    assert _problems(life, case.reference) == []
    assert case.reference not in check_system(life.session, life.engine).running_on_closed


def test_a_lost_task_row_a_lost_timer_and_a_parked_instance_are_each_reported(life):
    case = life.open(MONDAY)
    ref = case.reference
    task = life.open_tasks(ref)[0]
    life.session.delete(task)
    life.session.flush()
    assert ("tasks", ref) in _problems(life, ref)

    other = life.open(MONDAY).reference
    life.complete(other, "assess_risk", ASSESSMENT)  # first contact now has a deadline timer
    ref = other
    waiting = _waiting_instance(life, ref)
    assert waiting is not None, "the case's first stage waits on a deadline timer"
    due = waiting.next_timer_at
    waiting.next_timer_at = None  # the worker would never wake it: a timer lost
    life.session.flush()
    assert ("timer", ref) in _problems(life, ref)

    waiting.next_timer_at = due + timedelta(minutes=5)  # what the worker does after a fault
    life.session.flush()
    kinds = _problems(life, ref)
    assert ("parked", ref) in kinds and ("timer", ref) not in kinds


def test_an_ended_instance_with_open_tasks_and_a_closed_case_still_running_are_reported(life):
    ended, closed = life.open(MONDAY), life.open(MONDAY)
    task = life.open_tasks(ended.reference)[0]
    life.session.execute(update(ProcessInstance).where(ProcessInstance.id == task.instance_id)
                         .values(status=InstanceStatus.COMPLETED))
    life.session.execute(update(Case).where(Case.id == closed.id).values(status="closed"))
    life.session.flush()
    life.session.expire_all()
    assert ("ended_with_open_tasks", ended.reference) in _problems(life, ended.reference)
    report = check_system(life.session, life.engine)
    assert closed.reference in report.running_on_closed  # its process was never cancelled
    assert ended.reference not in report.running_on_closed
    assert not report.ok
    assert any(closed.reference in line for line in report.lines())


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'check.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ASB_FILES", str(tmp_path / "files"))
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        reference = new_life(session).open(MONDAY).reference
    return factory, reference


def test_asb_check_says_ok_then_names_an_unreadable_instance_and_exits_1(cli_db):
    factory, reference = cli_db
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "OK: consistent" in result.output
    assert "0 problem(s)" in result.output

    with unit_of_work(factory) as session:
        instance_id = session.scalars(select(HumanTask.instance_id).where(
            HumanTask.business_key == reference, HumanTask.state == TaskStatus.OPEN)).first()
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                        .values(state_json="{\"half\": "))  # a torn write
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert f"instance {instance_id} ({reference}) unreadable" in result.output
    assert "NOT consistent" in result.output
