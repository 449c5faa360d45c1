"""Alerts on unusual reading: one officer or team leader opening many cases outside their patch.

A case is outside a user's patch when it is neither their team's, nor theirs as case officer,
nor (for an officer) in one of their areas: the cases ``web.access`` would refuse them without
break-glass. The rule (``ASB_AUDIT_ALERT_CASES`` different cases within
``ASB_AUDIT_ALERT_MINUTES``; 20 in 60 by default) is checked as each case view is recorded;
the first time a user reaches it in a window the managers get an e-mail through the outbox
and an ``audit.reading_alert`` row marks it, so the next alert for that user waits a window.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .audit import READING_ACTIONS, AuditEvent, AuditRecord, record
from .outbox import MessageChannel, enqueue
from .people import Role, User
from .records import Case

ALERT_ACTION = "audit.reading_alert"
WATCHED_ROLES = (Role.OFFICER, Role.TEAM_LEADER)
DEFAULT_CASES = 20
DEFAULT_MINUTES = 60


@dataclass(frozen=True)
class AlertRule:
    """How many different cases outside a user's patch, within how long, raise an alert."""

    cases: int = DEFAULT_CASES
    window: timedelta = timedelta(minutes=DEFAULT_MINUTES)


@dataclass(frozen=True)
class Reader:
    """A user over the rule now: who, how many cases outside their patch, first and last read."""

    name: str
    display_name: str
    role: str
    team: str
    cases: int
    first_at: datetime
    last_at: datetime


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


def current_rule(environ: Mapping[str, str] | None = None) -> AlertRule:
    """The rule from the environment; unset or not a positive whole number: the default."""
    env = os.environ if environ is None else environ
    return AlertRule(cases=_positive(env, "ASB_AUDIT_ALERT_CASES", DEFAULT_CASES),
                     window=timedelta(minutes=_positive(env, "ASB_AUDIT_ALERT_MINUTES",
                                                        DEFAULT_MINUTES)))


def outside_patch(user: User, team: str | None, area: str | None, officer: str | None) -> bool:
    """Tell whether a case with this team, area and officer is outside ``user``'s patch."""
    if officer == user.name or (team is not None and user.team is not None
                                and team == user.team.name):
        return False
    return not (user.role is Role.OFFICER and area is not None
                and area in {a.name for a in user.areas})


def _readings(session: Session, since: datetime, until: datetime, actor: str | None = None):  # type: ignore[no-untyped-def]
    stmt = (select(AuditEvent.actor, AuditEvent.case_reference, func.min(AuditEvent.at),
                   func.max(AuditEvent.at), Case.team, Case.area, Case.case_officer)
            .join(Case, Case.reference == AuditEvent.case_reference)
            .where(AuditEvent.action.in_(READING_ACTIONS), AuditEvent.at > since,
                   AuditEvent.at <= until)
            .group_by(AuditEvent.actor, AuditEvent.case_reference, Case.team, Case.area,
                      Case.case_officer))
    if actor is not None:
        stmt = stmt.where(AuditEvent.actor == actor)
    return session.execute(stmt).all()


def unusual_readers(session: Session, now: datetime, rule: AlertRule) -> list[Reader]:
    """Users at or over the rule in the window ending ``now``, most cases first."""
    rows = _readings(session, now - rule.window, now)
    names = {r[0] for r in rows}
    users = {u.name: u for u in session.scalars(
        select(User).where(User.name.in_(names), User.role.in_(WATCHED_ROLES))
        .options(selectinload(User.team), selectinload(User.areas)))}
    seen: dict[str, list[tuple[datetime, datetime]]] = {}
    for actor, _ref, first, last, team, area, officer in rows:
        user = users.get(actor)
        if user is not None and outside_patch(user, team, area, officer):
            seen.setdefault(actor, []).append((first, last))
    found = [Reader(name, users[name].display_name, str(users[name].role),
                    users[name].team.name if users[name].team else "", len(times),
                    min(t[0] for t in times), max(t[1] for t in times))
             for name, times in seen.items() if len(times) >= rule.cases]
    return sorted(found, key=lambda r: (-r.cases, r.name))


def _already_alerted(session: Session, name: str, since: datetime) -> bool:
    pending = any(isinstance(o, AuditEvent) and o.action == ALERT_ACTION and o.object_id == name
                  for o in session.new)
    with session.no_autoflush:
        return pending or session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == ALERT_ACTION, AuditEvent.object_id == name,
            AuditEvent.at > since)) != 0


def check_reader(session: Session, event: AuditRecord, rule: AlertRule | None = None) -> bool:
    """After a case view is recorded: alert the managers if its reader just reached the rule."""
    rule = rule or current_rule()
    since = event.at - rule.window
    # Rows of this transaction not flushed yet (this view among them) count too.
    pending = {o.case_reference for o in session.new
               if isinstance(o, AuditEvent) and o.actor == event.actor
               and o.action in READING_ACTIONS and since < o.at <= event.at}
    with session.no_autoflush:
        # Cheap first: different cases this actor read in the window, of any patch.
        read = set(session.scalars(
            select(AuditEvent.case_reference).distinct().where(
                AuditEvent.actor == event.actor, AuditEvent.action.in_(READING_ACTIONS),
                AuditEvent.at > since, AuditEvent.at <= event.at)))
        if len(read | pending) < rule.cases:
            return False
        user = session.scalar(select(User).where(User.name == event.actor))
        if user is None or user.role not in WATCHED_ROLES:
            return False
        outside = {ref for _a, ref, _f, _l, team, area, officer
                   in _readings(session, since, event.at, event.actor)
                   if outside_patch(user, team, area, officer)}
        for case in session.scalars(select(Case).where(Case.reference.in_(pending - outside))):
            if outside_patch(user, case.team, case.area, case.case_officer):
                outside.add(case.reference)
    if len(outside) < rule.cases or _already_alerted(session, user.name, since):
        return False
    raise_alert(session, user, len(outside), rule, event.at)
    return True


def raise_alert(session: Session, user: User, cases: int, rule: AlertRule,
                at: datetime) -> int:
    """Mark the alert in the audit trail and e-mail every active manager; return e-mails."""
    minutes = int(rule.window.total_seconds() // 60)
    record(session, AuditRecord(at=at, actor="system", action=ALERT_ACTION, object_type="user",
                                object_id=user.name,
                                summary={"cases": cases, "window_minutes": minutes,
                                         "threshold": rule.cases}))
    managers = session.scalars(select(User).where(
        User.role == Role.MANAGER, User.active.is_(True), User.email.is_not(None))
        .order_by(User.name)).all()
    body = (f"{user.display_name} ({user.name}, {user.role}) opened {cases} different cases "
            f"outside their team and areas in the last {minutes} minutes (the alert is at "
            f"{rule.cases}).\n\nSee Audit > Unusual reading (/audit/alerts) and the audit "
            f"search for this user. You will not be told about this user again for "
            f"{minutes} minutes.")
    for manager in managers:
        enqueue(session, recipient_role="manager", channel=MessageChannel.EMAIL,
                to_address=manager.email or "", body_text=body, template=ALERT_ACTION,
                created_at=at, subject=f"Unusual case reading by {user.display_name}")
    return len(managers)
