"""The session records on SQLite and PostgreSQL: found by digest, listed, revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cases import staff
from cases.people import create_user

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
IDLE, LONGEST = timedelta(minutes=30), timedelta(hours=10)


def test_open_sessions_are_newest_first_and_revocation_keeps_the_one_asked(db_session):
    olivia = create_user(db_session, "olivia.officer", "officer")
    tara = create_user(db_session, "tara.leader", "team_leader")
    first = staff.start_browser_session(db_session, olivia, "one", now=T0, browser="Firefox")
    second = staff.start_browser_session(db_session, olivia, "two", now=T0 + timedelta(1 / 24))
    staff.start_browser_session(db_session, tara, "three", now=T0)
    old = staff.start_browser_session(db_session, olivia, "old", now=T0 - timedelta(hours=11))
    now = T0 + timedelta(hours=1, minutes=5)
    staff.touch_browser_session(first, now)
    assert staff.find_browser_session(db_session, "one") is first
    assert staff.find_browser_session(db_session, "nobody's") is None
    listed = staff.open_browser_sessions(db_session, olivia, now=now, idle=IDLE,
                                         longest=LONGEST)
    assert listed == [second, first]  # the old one timed out; tara's is not olivia's
    assert staff.revoke_browser_sessions(db_session, olivia, now=now, keep=second.id) == 2
    assert first.revoked_at == now and old.revoked_at == now and second.revoked_at is None
    assert staff.revoked_since(db_session, olivia, now) and not staff.revoked_since(
        db_session, tara, T0)
    assert staff.open_browser_sessions(db_session, olivia, now=now, idle=IDLE,
                                       longest=LONGEST) == [second]
    again = staff.start_browser_session(db_session, olivia, "two", now=now)
    assert again is second  # the same id is never a second row


def test_the_worker_purges_records_of_sessions_begun_a_week_ago_once_an_hour(db_session):
    from engine import clock
    from tasks.wiring import worker_jobs

    olivia = create_user(db_session, "olivia.officer", "officer")
    staff.start_browser_session(db_session, olivia, "stale", now=T0 - timedelta(days=8))
    recent = staff.start_browser_session(db_session, olivia, "recent", now=T0 - timedelta(days=6))
    (purge,) = [job for job in worker_jobs({}) if job.__name__ == "purge_sessions"]
    clock.set_now(T0)
    assert purge(db_session) == 0  # housekeeping never counts as work that keeps it awake
    db_session.expire_all()
    assert staff.find_browser_session(db_session, "stale") is None
    assert staff.find_browser_session(db_session, "recent") is recent
    late = staff.start_browser_session(db_session, olivia, "late", now=T0 - timedelta(days=9))
    clock.set_now(T0 + timedelta(minutes=30))
    purge(db_session)  # within the hour: nothing is done
    assert staff.find_browser_session(db_session, "late") is late
    clock.set_now(T0 + timedelta(hours=1))
    purge(db_session)
    db_session.expire_all()
    assert staff.find_browser_session(db_session, "late") is None
