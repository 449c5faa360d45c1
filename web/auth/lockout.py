"""Per-account lockout after repeated failed sign-ins, kept in the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.audit import AuditEvent, AuditRecord, record

MAX_FAILURES = 5
LOCKOUT_PERIOD = timedelta(minutes=15)
SIGNED_IN = "auth.signed_in"
FAILED = "auth.sign_in_failed"
LOCKED = "auth.account_locked"
REFUSED = "auth.sign_in_refused"
PASSWORD_ACCEPTED = "auth.password_accepted"  # noqa: S105 - an audit action name # nosec B105


def _last(session: Session, action: str, name: str) -> datetime | None:
    found: datetime | None = session.scalar(
        select(func.max(AuditEvent.at))
        .where(AuditEvent.action == action, AuditEvent.object_id == name))
    return found


def is_locked(session: Session, name: str, now: datetime) -> bool:
    """Tell whether sign-in by ``name`` is locked (whether or not such a user exists)."""
    locked_at = _last(session, LOCKED, name)
    return locked_at is not None and now - locked_at < LOCKOUT_PERIOD


def _failures_since_reset(session: Session, name: str, now: datetime) -> int:
    since = now - LOCKOUT_PERIOD
    for action in (SIGNED_IN, LOCKED):
        moment = _last(session, action, name)
        if moment is not None and moment > since:
            since = moment
    count: int = session.scalar(
        select(func.count()).select_from(AuditEvent)
        .where(AuditEvent.action == FAILED, AuditEvent.object_id == name,
               AuditEvent.at > since)) or 0
    return count


def note_event(session: Session, action: str, name: str, now: datetime, ip: str | None,
               **more: str) -> None:
    """Audit one sign-in event for the user name typed in."""
    record(session, AuditRecord(at=now, actor=name, action=action, object_type="user",
                                object_id=name, summary={"ip": ip, **more}))


def note_failure(session: Session, name: str, now: datetime, ip: str | None,
                 **more: str) -> bool:
    """Audit a failed sign-in (password or code); lock on the fifth in a row; tell if locked."""
    note_event(session, FAILED, name, now, ip, **more)
    session.flush()
    if _failures_since_reset(session, name, now) >= MAX_FAILURES:
        note_event(session, LOCKED, name, now, ip)
        return True
    return False
