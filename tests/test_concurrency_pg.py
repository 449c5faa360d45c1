"""Concurrency on a real PostgreSQL server: no lost update, no double completion or firing."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from cases.audit import AuditEvent
from engine import clock
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.errors import TaskConflict
from engine.models import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from migrations.runner import upgrade
from tests.engine_support import BPMN_DIR, DemoServices
from tests.engine_support import make_engine as make_case_engine

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_pg(pg_server):
    """A new, empty database on the test server, migrated; dropped afterwards."""
    url = make_url(pg_server.url)
    name = f"asb_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(db_url, pool_size=25, max_overflow=5)
    upgrade(engine)
    yield db_url, engine
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_twenty_threads_completing_one_task_exactly_one_wins(fresh_pg):
    _, db = fresh_pg
    factory = make_session_factory(db)
    case_engine = make_case_engine(DemoServices())
    with unit_of_work(factory) as s:
        case_engine.definitions.sync_directory(s, BPMN_DIR)
        case_engine.start(s, "engine_demo", "ASB-C1",
                          {"received_at": "2026-11-23T10:00:00+00:00", "officer_name": "o"})
    with unit_of_work(factory) as s:
        task_id = s.scalars(select(HumanTask.id).where(HumanTask.business_key == "ASB-C1")).one()

    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(factory) as s:
                case_engine.complete(s, task_id, {
                    "priority": 2, "hate": False, "case_reference": "ASB-C1",
                    "first_contact_due": "2026-11-30T17:00:00+00:00", "by": n}, actor=f"u{n}")
            result = "ok"
        except TaskConflict:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 19 + ["ok"]
    with unit_of_work(factory) as s:
        row = s.scalars(select(ProcessInstance).where(
            ProcessInstance.business_key == "ASB-C1")).one()
        assert row.revision == 2  # one completion, not twenty
        tasks = s.scalars(select(HumanTask).where(HumanTask.business_key == "ASB-C1")
                          .order_by(HumanTask.created_at, HumanTask.name)).all()
        assert [(t.name, t.state) for t in tasks] == [
            ("record", TaskStatus.COMPLETED), ("contact", TaskStatus.OPEN)]
        completions = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "task_completed"))
        assert completions == 1


def _make_due_timers(factory, count: int) -> None:
    """Start ``count`` instances whose timer fell due an hour ago (clock moved for the start)."""
    real_now = datetime.now(UTC)
    clock.set_now(real_now - timedelta(hours=2))
    case_engine = make_case_engine(DemoServices())
    try:
        with unit_of_work(factory) as s:
            case_engine.definitions.sync_directory(s, BPMN_DIR)
            fire_at = (real_now - timedelta(hours=1)).isoformat()
            for n in range(count):
                case_engine.start(s, "timer_mark", f"T-{n}",
                                  {"fire_at": fire_at, "label": f"T-{n}"})
    finally:
        clock.reset()


def _spawn(url: str, slow: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.worker_proc", url, str(slow)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _fired_counts(factory) -> dict[str, int]:
    with unit_of_work(factory) as s:
        rows = s.execute(select(AuditEvent.object_id, func.count()).where(
            AuditEvent.action == "timer_fired").group_by(AuditEvent.object_id)).all()
    return {label: n for label, n in rows}


def test_four_worker_processes_fire_two_thousand_timers_exactly_once(fresh_pg):
    url, db = fresh_pg
    factory = make_session_factory(db)
    _make_due_timers(factory, 2000)
    procs = [_spawn(url) for _ in range(4)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outputs]
    woken = [int(o[0].split("woken ")[1]) for o in outputs]
    assert sum(woken) == 2000
    assert sum(1 for w in woken if w > 0) >= 2  # the queue really was shared
    counts = _fired_counts(factory)
    assert len(counts) == 2000 and set(counts.values()) == {1}
    with unit_of_work(factory) as s:
        left = s.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.status != InstanceStatus.COMPLETED))
    assert left == 0


def test_worker_killed_mid_batch_loses_no_timer_and_doubles_none(fresh_pg):
    url, db = fresh_pg
    factory = make_session_factory(db)
    _make_due_timers(factory, 300)
    victim = _spawn(url, slow=0.02)
    others = [_spawn(url, slow=0.02) for _ in range(2)]
    deadline = time.monotonic() + 120
    while sum(_fired_counts(factory).values()) < 40:  # the victim is busy mid-batch now
        assert time.monotonic() < deadline, "workers made no progress"
        time.sleep(0.05)
    victim.kill()  # SIGKILL: no cleanup, open transaction and row locks die with it
    victim.communicate(timeout=60)
    assert victim.returncode == -9
    for p in others:
        p.communicate(timeout=300)
    final = _spawn(url)  # anything the victim held is due again and taken now
    final.communicate(timeout=300)
    assert final.returncode == 0
    counts = _fired_counts(factory)
    assert len(counts) == 300 and set(counts.values()) == {1}
