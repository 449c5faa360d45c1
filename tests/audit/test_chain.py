"""The audit trail is a hash chain: rows are written plainly, sealed onto the chain by the
worker in order, cannot be changed or removed, and tampering is found."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cases.audit import AuditEvent, AuditRecord, record
from cases.audit_chain import GENESIS, drop_triggers, rechain, seal, verify
from engine.database import make_engine, make_session_factory, unit_of_work
from migrations.runner import _config, upgrade
from tasks.wiring import worker_jobs
from web.cli import main

AT = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)


def _event(n: int, **kw) -> AuditRecord:  # type: ignore[no-untyped-def]
    # Not a case reading and no real reference: the shared PostgreSQL database keeps these.
    return AuditRecord(at=AT, actor="olivia", action="test.chained", object_type="case",
                       object_id=str(n), case_reference=f"TEST-{n:06d}",
                       summary={"via": "test", "n": n, "phone": "07700 900123"}, **kw)


def _sealed(session: Session) -> None:
    session.flush()
    (job,) = [j for j in worker_jobs({}) if j.__name__ == "seal_audit"]  # the worker's job
    while job(session):
        pass
    session.expire_all()


def test_rows_are_sealed_in_order_and_verify_passes(db_session: Session) -> None:
    first, second = record(db_session, _event(1)), record(db_session, _event(2))
    db_session.flush()
    assert first.row_hash is None and verify(db_session).unsealed >= 2   # written, not sealed
    _sealed(db_session)
    assert second.chain_seq == first.chain_seq + 1 and second.prev_hash == first.row_hash
    assert len(first.row_hash) == 64 and first.row_hash != second.row_hash
    assert second.summary["phone"] == "(changed)"  # redacted before it is written
    report = verify(db_session)
    assert report.ok and report.unsealed == 0 and report.head == second.row_hash


def test_the_database_refuses_every_change_but_the_seal(db_session: Session) -> None:
    row = record(db_session, _event(3))
    db_session.flush()
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"),
                           {"id": row.id})                     # not even before its seal
    _sealed(db_session)
    for sql in ("UPDATE audit_events SET actor = 'mallory' WHERE id = :id",
                "UPDATE audit_events SET row_hash = 'x', chain_seq = 999999 WHERE id = :id",
                "DELETE FROM audit_events WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
            db_session.execute(text(sql), {"id": row.id})
    assert db_session.scalar(select(AuditEvent.actor).where(AuditEvent.id == row.id)) == "olivia"


def test_a_changed_or_removed_row_is_found(db_session: Session) -> None:
    rows = [record(db_session, _event(n)) for n in (4, 5, 6)]
    _sealed(db_session)
    with db_session.begin_nested() as nested:
        drop_triggers(db_session)
        db_session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"),
                           {"id": rows[1].id})
        report = verify(db_session)
        assert (report.ok, report.broken_id) == (False, rows[1].id)
        assert "changed" in report.reason
        nested.rollback()
    with db_session.begin_nested() as nested:
        drop_triggers(db_session)
        db_session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": rows[1].id})
        report = verify(db_session)
        assert (report.ok, report.broken_id) == (False, rows[2].id)
        assert "removed" in report.reason
        nested.rollback()
    assert verify(db_session).ok


def test_rechain_seals_everything_again_and_puts_the_triggers_back(db_session: Session) -> None:
    row = record(db_session, _event(7))
    _sealed(db_session)
    drop_triggers(db_session)
    db_session.execute(text("UPDATE audit_events SET row_hash = :bad WHERE id = :id"),
                       {"bad": "f" * 64, "id": row.id})
    assert verify(db_session).broken_id == row.id
    assert rechain(db_session) >= 1
    assert verify(db_session).ok
    with pytest.raises(DBAPIError), db_session.begin_nested():  # the triggers are back
        db_session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": row.id})


def _sqlite(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'asb.sqlite'}"
    engine = make_engine(url)
    return url, engine


def test_verify_command_says_ok_then_names_the_tampered_row(tmp_path, monkeypatch) -> None:
    url, engine = _sqlite(tmp_path)
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        written = [record(session, _event(n)) for n in range(1, 6)]
        session.flush()
        ids = [row.id for row in written]
    with unit_of_work(factory) as session:
        assert seal(session) == 5
    with unit_of_work(factory) as session:
        record(session, _event(6))
    monkeypatch.setenv("DATABASE_URL", url)
    ok = CliRunner().invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "OK: 5 audit rows" in ok.output and "1 newer row(s) not yet sealed" in ok.output
    with engine.begin() as conn, pytest.raises(DBAPIError):  # the trigger first
        conn.execute(text("UPDATE audit_events SET action = 'x' WHERE id = :id"),
                     {"id": ids[2]})
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET summary = '{\"n\": 99}' WHERE id = :id"),
                     {"id": ids[2]})
    bad = CliRunner().invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1
    assert f"BROKEN at audit row {ids[2]}" in bad.output and "changed" in bad.output
    engine.dispose()


def test_rows_written_before_the_migration_are_sealed_like_new_ones(tmp_path) -> None:
    from alembic import command

    _url, engine = _sqlite(tmp_path)
    command.upgrade(_config(engine), "0011")
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(text(
                "INSERT INTO audit_events (at, actor, action, object_type, summary) "
                "VALUES (:at, 'olivia', 'test.chained', 'case', :summary)"),
                {"at": f"2026-01-0{n + 1} 10:00:00.000000", "summary": f'{{"n": {n}}}'})
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:  # the app carries on; the worker seals all four
        record(session, _event(9))
    with unit_of_work(factory) as session:
        assert seal(session) == 4
    with engine.connect() as conn:
        report = verify(conn)
        first = conn.scalar(text("SELECT prev_hash FROM audit_events ORDER BY id LIMIT 1"))
        assert report.ok and report.rows == 4 and report.unsealed == 0 and first == GENESIS
        with pytest.raises(DBAPIError):
            conn.execute(text("DELETE FROM audit_events"))
    engine.dispose()


@pytest.mark.postgres
def test_writers_and_sealers_in_parallel_on_postgresql_keep_one_chain(pg_engine) -> None:
    factory = make_session_factory(pg_engine)
    barrier = threading.Barrier(10)
    failures: list[BaseException] = []
    writing = threading.Event()

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                with unit_of_work(factory) as session:
                    record(session, _event(n * 100 + i))
                    record(session, _event(n * 100 + i, task_name="second"))
        except BaseException as exc:  # noqa: BLE001 # reported below
            failures.append(exc)

    def sealer() -> None:
        try:
            barrier.wait()
            while writing.is_set():
                with unit_of_work(factory) as session:
                    seal(session, limit=7)
        except BaseException as exc:  # noqa: BLE001 # reported below
            failures.append(exc)

    writing.set()
    writers = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    for t in (*writers, *sealers):
        t.start()
    for t in writers:
        t.join()
    writing.clear()
    for t in sealers:
        t.join()
    with unit_of_work(factory) as session:
        while seal(session):
            pass
    assert failures == []
    with pg_engine.connect() as conn:
        report = verify(conn)
    assert report.ok and report.unsealed == 0, report
    assert report.rows >= 80
