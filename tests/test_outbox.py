"""The outbox table: queueing, due selection, backoff and giving up (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.outbox import (
    MAX_ATTEMPTS,
    MessageChannel,
    OutboxError,
    OutboxMessage,
    OutboxStatus,
    due_messages,
    enqueue,
    failed_messages,
    mark_failed,
    mark_sent,
    messages_for_case,
    scrub_error,
)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
OLD = datetime(2001, 1, 1, tzinfo=UTC)


def queue(session, **fields):
    fields.setdefault("case_reference", "ASB-2026-000001")
    fields.setdefault("recipient_role", "reporter")
    fields.setdefault("channel", "email")
    fields.setdefault("to_address", "someone@example.net")
    fields.setdefault("subject", "Subject")
    fields.setdefault("body_text", "Body")
    fields.setdefault("template", "update")
    fields.setdefault("created_at", T0)
    return enqueue(session, **fields)


def due_ids(session, now, limit=50):
    return [m.id for m in session.scalars(due_messages(now, limit))]


def test_enqueue_stores_a_pending_message(db_session):
    message = queue(db_session, body_html="<p>Body</p>", pdf=b"%PDF-1.7 x")
    db_session.expire_all()
    stored = db_session.get(OutboxMessage, message.id)
    assert stored.status is OutboxStatus.PENDING
    assert stored.channel is MessageChannel.EMAIL
    assert stored.attempts == 0
    assert stored.next_attempt_at == T0
    assert stored.created_at == T0 and stored.created_at.tzinfo is not None
    assert stored.pdf == b"%PDF-1.7 x"
    assert stored.body_html == "<p>Body</p>"
    assert "someone@example.net" not in repr(stored)


def test_a_message_for_later_is_held_until_its_safe_time(db_session):
    later = T0 + timedelta(hours=3)
    held = queue(db_session, not_before=later)
    assert held.status is OutboxStatus.HELD
    assert held.id not in due_ids(db_session, T0)
    assert held.id not in due_ids(db_session, later - timedelta(seconds=1))
    assert held.id in due_ids(db_session, later)
    # A not_before in the past changes nothing.
    now_message = queue(db_session, not_before=T0 - timedelta(hours=1))
    assert now_message.status is OutboxStatus.PENDING


def test_due_messages_oldest_first_with_a_limit(db_session):
    newer = queue(db_session, created_at=T0 + timedelta(minutes=5))
    older = queue(db_session, created_at=T0)
    sent = queue(db_session)
    mark_sent(sent, "provider-1", T0)
    db_session.flush()
    ids = due_ids(db_session, T0 + timedelta(hours=1))
    assert ids.index(older.id) < ids.index(newer.id)
    assert sent.id not in ids
    assert len(due_ids(db_session, T0 + timedelta(hours=1), limit=1)) == 1


def test_backoff_doubles_from_one_minute_then_fails_and_stays_visible(db_session):
    message = queue(db_session)
    now = T0
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        mark_failed(message, "Notify HTTP 500", now)
        db_session.flush()
        assert message.status is OutboxStatus.PENDING
        waits.append(message.next_attempt_at - now)
        assert message.id not in due_ids(db_session, message.next_attempt_at - timedelta(seconds=1))
        assert message.id in due_ids(db_session, message.next_attempt_at)
        now = message.next_attempt_at
    assert waits == [timedelta(minutes=2 ** i) for i in range(MAX_ATTEMPTS - 1)]
    mark_failed(message, "Notify HTTP 500", now)
    db_session.flush()
    assert message.attempts == MAX_ATTEMPTS
    assert message.status is OutboxStatus.FAILED
    assert message.next_attempt_at is None
    assert message.id not in due_ids(db_session, now + timedelta(days=30))
    assert message.id in [m.id for m in db_session.scalars(failed_messages("ASB-2026-000001"))]
    assert message.last_error == "Notify HTTP 500"


def test_a_permanent_failure_fails_at_once(db_session):
    message = queue(db_session)
    mark_failed(message, "Notify HTTP 400 (BadRequestError)", T0, retryable=False)
    assert message.status is OutboxStatus.FAILED
    assert message.attempts == 1


def test_mark_sent_records_the_provider(db_session):
    message = queue(db_session)
    mark_failed(message, "SMTP error 451", T0)
    mark_sent(message, "<abc@example.org>", T0 + timedelta(minutes=1))
    db_session.flush()
    assert message.status is OutboxStatus.SENT
    assert message.provider_id == "<abc@example.org>"
    assert message.sent_at == T0 + timedelta(minutes=1)
    assert message.attempts == 2
    assert message.last_error is None
    assert [m.id for m in db_session.scalars(messages_for_case("ASB-2026-000001"))] == [message.id]


def test_errors_never_keep_addresses():
    scrubbed = scrub_error("550 <jo.bloggs@example.net> unknown; sms to +44 7700 900123 failed")
    assert "jo.bloggs" not in scrubbed and "900123" not in scrubbed
    assert "[address]" in scrubbed and "[number]" in scrubbed
    assert len(scrub_error("x" * 5000)) == 500


@pytest.mark.parametrize(("fields", "match"), [
    ({"channel": "pigeon"}, "unknown channel"),
    ({"to_address": "  "}, "address"),
    ({"created_at": datetime(2026, 1, 1)}, "offset"),
    ({"not_before": datetime(2026, 1, 1)}, "offset"),
    ({"channel": "letter"}, "PDF"),
    ({"recipient_role": ""}, "recipient role"),
])
def test_enqueue_refuses_bad_messages(db_session, fields, match):
    with pytest.raises(OutboxError, match=match):
        queue(db_session, **fields)


def test_naive_now_is_refused():
    with pytest.raises(OutboxError):
        due_messages(datetime(2026, 1, 1))


@pytest.mark.postgres
def test_two_workers_never_claim_the_same_message(pg_engine):
    with Session(pg_engine) as setup:
        # Older than anything else in the database, so the first worker's page is these.
        rows = [queue(setup, case_reference="ASB-LOCK-TEST", created_at=OLD + timedelta(seconds=i))
                for i in range(4)]
        ids = {row.id for row in rows}
        setup.commit()
    first, second = Session(pg_engine), Session(pg_engine)
    try:
        claimed_first = {m.id for m in first.scalars(due_messages(T0 + timedelta(hours=1), 2))
                         if m.id in ids}
        claimed_second = {m.id for m in second.scalars(due_messages(T0 + timedelta(hours=1), 50))
                          if m.id in ids}
        assert len(claimed_first) == 2
        assert claimed_first.isdisjoint(claimed_second)
        assert claimed_first | claimed_second == ids
    finally:
        first.rollback()
        second.rollback()
        first.close()
        second.close()
        with Session(pg_engine) as cleanup:
            cleanup.execute(delete(OutboxMessage).where(OutboxMessage.case_reference
                                                        == "ASB-LOCK-TEST"))
            cleanup.commit()
    with Session(pg_engine) as check:
        assert not check.scalars(select(OutboxMessage.id).where(
            OutboxMessage.case_reference == "ASB-LOCK-TEST")).all()
