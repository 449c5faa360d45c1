"""End to end: a report's acknowledgement leaves through the worker over a real SMTP exchange."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from sqlalchemy import select

from cases.outbox import OutboxMessage, OutboxStatus
from engine import clock
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.worker import Worker
from migrations.runner import upgrade
from tasks.wiring import worker_jobs
from tests.lifecycle_support import new_life


def test_the_worker_sends_the_acknowledgement_by_smtp(tmp_path, smtp):
    box, port = smtp
    factory = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'd.sqlite'}"))
    upgrade(factory.kw["bind"])
    clock.set_now(datetime(2026, 12, 24, 10, 0, tzinfo=UTC))
    with unit_of_work(factory) as session:
        life = new_life(session)
        case = life.open(clock.now())
        reference = case.reference
    jobs = worker_jobs({"ASB_SMTP_HOST": "127.0.0.1", "ASB_SMTP_PORT": str(port),
                        "ASB_SMTP_SENDER": "asb@council.example.org"})
    worker = Worker(life.engine, factory, jobs=jobs)
    assert worker.run_once() >= 1
    (envelope,) = box.envelopes
    assert envelope.rcpt_tos == ["rita@example.org"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert reference in mail["Subject"] or reference in mail.get_body(("plain",)).get_content()
    assert "Olivia Officer" in mail.get_body(("plain",)).get_content()
    with unit_of_work(factory) as session:
        (sent,) = session.scalars(select(OutboxMessage)).all()
        assert sent.status is OutboxStatus.SENT and sent.sent_at is not None


def test_without_a_channel_the_worker_leaves_messages_waiting(tmp_path, caplog):
    assert [job.__name__ for job in worker_jobs({})] == ["seal_audit", "purge_sessions"]
    assert "messages wait in the outbox" in caplog.text
