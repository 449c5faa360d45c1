"""A backup taken with pg_dump while officers work restores to a consistent, working system.

Real PostgreSQL, real pg_dump and pg_restore. Threads open cases and complete their first
task, and a sealer extends the audit chain, while the dump runs. The restored copy must pass
``asb check`` (every instance agrees with its state, the audit chain holds), hold each case
whole (its report, its instance, its audited completion, or none of them), and keep working:
a new case gets a fresh reference and the first task of a restored case can be completed.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from cases.audit import AuditEvent
from cases.audit_chain import seal, verify
from cases.records import Case
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.models import HumanTask, ProcessInstance, TaskStatus
from migrations.runner import upgrade
from tasks import cases_service
from tasks.consistency import check_system
from tasks.wiring import build_engine
from tests.lifecycle_support import Lifecycle
from tests.pg_server import _bin_dir
from tests.production.support import recent_report
from tests.test_lifecycle import ASSESSMENT

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
OFFICERS = 4


def _new_database(pg_server) -> tuple[str, str]:
    url = make_url(pg_server.url)
    name = f"asb_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, url.set(database=name).render_as_string(hide_password=False)


def _drop(pg_server, name: str) -> None:
    admin = make_url(pg_server.url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _pg_args(db_url: str) -> list[str]:
    url = make_url(db_url)
    return ["-h", str(url.host), "-p", str(url.port), "-U", str(url.username)]


def _officer_loop(factory, stop: threading.Event, done: list[str], errors: list[BaseException]
                  ) -> None:
    engine = build_engine()
    try:
        while not stop.is_set():
            with unit_of_work(factory) as session:
                case = cases_service.open_case(session, engine, recent_report(), actor="api")
                reference = case.reference
            with unit_of_work(factory) as session:
                task_id = session.scalars(select(HumanTask.id).where(
                    HumanTask.business_key == reference, HumanTask.name == "assess_risk")).one()
                engine.complete(session, task_id, ASSESSMENT, "olivia")
            done.append(reference)
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def _sealer_loop(factory, stop: threading.Event) -> None:
    while not stop.is_set():
        with unit_of_work(factory) as session:
            seal(session)
        stop.wait(0.05)


@pytest.fixture
def source(pg_server):
    name, db_url = _new_database(pg_server)
    engine = make_engine(db_url, pool_size=OFFICERS + 4)
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        Lifecycle(session).people()
    yield db_url, factory
    engine.dispose()
    _drop(pg_server, name)


def test_a_dump_taken_mid_load_restores_whole_and_keeps_working(source, pg_server, tmp_path):
    db_url, factory = source
    stop, done, errors = threading.Event(), [], []
    threads = [threading.Thread(target=_officer_loop, args=(factory, stop, done, errors))
               for _ in range(OFFICERS)]
    threads.append(threading.Thread(target=_sealer_loop, args=(factory, stop)))
    for thread in threads:
        thread.start()
    try:
        while len(done) < 8 and not errors:  # the load is under way before the dump starts
            stop.wait(0.05)
        dump = tmp_path / "asb.dump"
        subprocess.run([str(_bin_dir() / "pg_dump"), *_pg_args(db_url), "-Fc", "-f", str(dump),
                        make_url(db_url).database], check=True, capture_output=True, timeout=300)
        at_dump_end = len(done)
        while len(done) < at_dump_end + 8 and not errors:  # and goes on after it
            stop.wait(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []

    name, restored_url = _new_database(pg_server)
    try:
        subprocess.run([str(_bin_dir() / "pg_restore"), *_pg_args(restored_url), "--no-owner",
                        "-d", name, str(dump)], check=True, capture_output=True, timeout=300)
        restored = make_engine(restored_url)
        restored_factory = make_session_factory(restored)
        case_engine = build_engine()
        with unit_of_work(restored_factory) as session:
            report = check_system(session, case_engine)
            assert report.ok, "\n".join(report.lines())
            references = set(session.scalars(select(Case.reference)))
            with unit_of_work(factory) as live:
                total = live.scalar(select(func.count(Case.id)))
            assert 0 < len(references) < total  # a snapshot from the middle of the load
            instances = set(session.scalars(select(ProcessInstance.business_key)))
            assert references == instances  # no case without its process, nor the reverse
            assessed = set(session.scalars(select(HumanTask.business_key).where(
                HumanTask.name == "assess_risk", HumanTask.state == TaskStatus.COMPLETED)))
            audited = set(session.scalars(select(AuditEvent.case_reference).where(
                AuditEvent.action == "task_completed")))
            assert assessed <= audited  # a completion restored with its audit entry

            # The restored system works on: a new case, and the next task of a restored one.
            new = cases_service.open_case(session, case_engine, recent_report(), actor="api")
            assert new.reference not in references
            restored_task = session.scalars(select(HumanTask).where(
                HumanTask.name == "first_contact", HumanTask.state == TaskStatus.OPEN)
                .order_by(HumanTask.created_at)).first()
            assert restored_task is not None and restored_task.business_key in references
            contact = {"contacted_at": datetime.now(UTC).isoformat(), "method": "phone",
                       "summary": "Called back after the restore"}
            case_engine.complete(session, restored_task.id, contact, "olivia")
            seal(session)
        with restored.connect() as conn:
            after = verify(conn)
        assert after.ok and after.unsealed == 0
        restored.dispose()
    finally:
        _drop(pg_server, name)
