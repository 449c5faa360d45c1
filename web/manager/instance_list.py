"""The managers' list of process instances: filters and keyset pagination, without Flask.

Filters travel in the query string as codes, ids and dates only (never a name or any other
personal detail): ``status``, ``process`` (a process id), ``version`` (a definition version
id), ``step`` (a task's element id), ``overdue=1``, ``incident=1``, ``officer`` (a user id; or,
from the text box shown when officers are too many for a list, a staff member's user name or
display name, which the page resolves and redirects to the id), ``area`` (an area id),
``from``/``to`` (start dates, YYYY-MM-DD, England's days). Pages are
walked newest first by instance id (``after=<id>`` for older, ``before=<id>`` for newer), so
a page costs the same at 1,000 or 100,000 instances: every filter is an indexed condition or
a correlated ``EXISTS`` probed only for the rows the walk meets. ``bench/scale.py`` times
``list_page(session, parse_filters({...}), now=...)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from cases.people import Area, Role, User
from cases.records import Case
from engine.models import (
    DefinitionVersion,
    HumanTask,
    Incident,
    IncidentStatus,
    InstanceStatus,
    ProcessInstance,
    TaskStatus,
)

LONDON = ZoneInfo("Europe/London")
PAGE_SIZE = 50
MAX_ID = 2**31 - 1
CODE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,199}")
MAX_NAME = 128
OFFICER_ROLES = (Role.OFFICER, Role.TEAM_LEADER)
FIELDS = ("status", "process", "version", "step", "overdue", "incident", "officer", "area",
          "from", "to")


@dataclass(frozen=True)
class Filters:
    """The list's filters as codes and ids; ``officer``/``area`` names are looked up from ids."""

    status: InstanceStatus | None = None
    process: str | None = None
    version: int | None = None
    step: str | None = None
    overdue: bool = False
    incident: bool = False
    officer: int | None = None
    officer_name: str | None = None  # typed, not chosen: ``resolve_officer`` finds the id
    area: int | None = None
    started_from: date | None = None
    started_to: date | None = None
    after: int | None = None
    before: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def args(self, **changes: Any) -> dict[str, str]:
        """The query string of these filters (with ``changes``), empty values left out."""
        values: dict[str, Any] = {
            "status": self.status.value if self.status else None, "process": self.process,
            "version": self.version, "step": self.step, "overdue": "1" if self.overdue else None,
            "incident": "1" if self.incident else None, "officer": self.officer,
            "area": self.area, "from": self.started_from, "to": self.started_to}
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "", False)}

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list."""
        return bool(self.args())


def _int(raw: str, name: str, errors: dict[str, str], label: str) -> int | None:
    if not raw:
        return None
    if raw.isdecimal() and 0 < int(raw) <= MAX_ID:
        return int(raw)
    errors[name] = f"Choose {label} from the list"
    return None


def _is_id(raw: str) -> bool:
    return raw.isdecimal() and 0 < int(raw) <= MAX_ID


def _typed_name(raw: str, errors: dict[str, str]) -> str | None:
    """An officer typed by name or user name (the form's text box when officers are many)."""
    if not raw or _is_id(raw):
        return None
    if len(raw) > MAX_NAME:
        errors["officer"] = f"Enter a name of {MAX_NAME} characters or fewer"
        return None
    return raw


def resolve_officer(session: Session, found: Filters) -> Filters:
    """``found`` with a typed officer name turned into the officer's id, or a field error."""
    if found.officer_name is None:
        return found
    typed = found.officer_name.casefold()
    matches = session.execute(select(User.id, User.name).where(
        User.role.in_(OFFICER_ROLES),
        or_(func.lower(User.name) == typed, func.lower(User.display_name) == typed))
        .order_by(User.name).limit(6)).all()
    exact = [m for m in matches if m.name.casefold() == typed]
    if len(exact) == 1 or len(matches) == 1:
        return replace(found, officer=(exact or matches)[0].id, officer_name=None)
    errors = dict(found.errors)
    if not matches:
        errors["officer"] = f"No officer or team leader is called {found.officer_name!r}"
    else:
        names = ", ".join(m.name for m in matches[:5])
        errors["officer"] = (f"More than one officer is called {found.officer_name!r}: "
                             f"enter their user name ({names})")
    return replace(found, officer_name=None, errors=errors)


def _day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    errors[name] = "Enter a real date, for example 2027-01-31"
    return None


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Read the filters from a query string; each bad value becomes a field error."""
    errors: dict[str, str] = {}
    raw = {k: str(args.get(k, "") or "").strip() for k in (*FIELDS, "after", "before")}
    status = None
    if raw["status"]:
        try:
            status = InstanceStatus(raw["status"])
        except ValueError:
            errors["status"] = "Choose a status from the list"
    for name in ("process", "step"):
        if raw[name] and not CODE_RE.fullmatch(raw[name]):
            errors[name] = f"Choose a {'process' if name == 'process' else 'step'} from the list"
    started_from, started_to = _day(raw["from"], "from", errors), _day(raw["to"], "to", errors)
    if started_from and started_to and started_to < started_from:
        errors["to"] = "The end date must be the same as or after the start date"
    found = Filters(
        status=status,
        process=raw["process"] if "process" not in errors and raw["process"] else None,
        version=_int(raw["version"], "version", errors, "a version"),
        step=raw["step"] if "step" not in errors and raw["step"] else None,
        overdue=raw["overdue"] == "1", incident=raw["incident"] == "1",
        officer=int(raw["officer"]) if _is_id(raw["officer"]) else None,
        officer_name=_typed_name(raw["officer"], errors),
        area=_int(raw["area"], "area", errors, "an area"),
        started_from=started_from, started_to=started_to,
        after=_int(raw["after"], "after", {}, ""), before=_int(raw["before"], "before", {}, ""),
        errors=errors)
    return found


def _start_of(day: date) -> datetime:
    """Midnight in England at the start of ``day``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def _conditions(session: Session, f: Filters, now: datetime) -> list[Any]:
    """The SQL conditions on ``ProcessInstance`` for the filters."""
    pi = ProcessInstance
    found: list[Any] = []
    if f.status is not None:
        found.append(pi.status == f.status)
    if f.process:
        found.append(pi.process_id == f.process)
    if f.version:
        found.append(pi.definition_id == f.version)
    open_task = and_(HumanTask.instance_id == pi.id, HumanTask.state == TaskStatus.OPEN)
    if f.step:
        found.append(exists().where(open_task, HumanTask.name == f.step))
    if f.overdue:
        found.append(exists().where(open_task, HumanTask.due_at < now))
    if f.incident:  # open incidents are few: collect them rather than probe every row
        found.append(pi.id.in_(select(Incident.instance_id).where(
            Incident.status == IncidentStatus.OPEN)))
    if f.officer:
        name = session.scalar(select(User.name).where(User.id == f.officer)) or ""
        found.append(or_(
            exists().where(Case.reference == pi.business_key, Case.case_officer == name),
            exists().where(open_task, HumanTask.assignee == name)))
    if f.area:
        area = session.scalar(select(Area.name).where(Area.id == f.area)) or ""
        found.append(exists().where(Case.reference == pi.business_key, Case.area == area))
    if f.started_from:
        found.append(pi.created_at >= _start_of(f.started_from))
    if f.started_to:
        found.append(pi.created_at < _start_of(f.started_to + timedelta(days=1)))
    return found


def instance_query(session: Session, f: Filters, now: datetime, limit: int) -> Select[Any]:
    """The ids of one page of instances (one more than ``limit``, to know if more follow)."""
    stmt = select(ProcessInstance.id).where(*_conditions(session, f, now))
    if f.before:
        return stmt.where(ProcessInstance.id > f.before).order_by(
            ProcessInstance.id.asc()).limit(limit + 1)
    if f.after:
        stmt = stmt.where(ProcessInstance.id < f.after)
    return stmt.order_by(ProcessInstance.id.desc()).limit(limit + 1)


@dataclass
class Row:
    """One instance as the list shows it."""

    instance: ProcessInstance
    version: DefinitionVersion
    steps: list[HumanTask] = field(default_factory=list)
    incidents: int = 0
    case_officer: str | None = None
    area: str | None = None

    def overdue(self, now: datetime) -> bool:
        """Whether any open step is past its due date."""
        return any(t.due_at is not None and t.due_at < now for t in self.steps)


@dataclass
class Page:
    """One page of the list and the cursors to the neighbouring pages."""

    rows: list[Row]
    older: int | None  # ``after`` for the next (older) page
    newer: int | None  # ``before`` for the previous (newer) page


def list_page(session: Session, f: Filters, *, now: datetime, limit: int | None = None
              ) -> Page:
    """One page of instances matching ``f``, newest first, with what each row shows."""
    limit = limit or PAGE_SIZE
    ids = list(session.scalars(instance_query(session, f, now, limit)))
    more = len(ids) > limit
    ids = ids[:limit]
    if f.before:
        ids.reverse()
    rows = _rows(session, ids)
    if f.before:
        older, newer = (ids[-1] if ids else None), (ids[0] if more and ids else None)
    else:
        older = ids[-1] if more and ids else None
        newer = ids[0] if f.after and ids else None
    return Page(rows, older, newer)


def _rows(session: Session, ids: list[int]) -> list[Row]:
    if not ids:
        return []
    found = {r.id: r for r in session.scalars(select(ProcessInstance).where(
        ProcessInstance.id.in_(ids)))}
    versions = {v.id: v for v in session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.id.in_({r.definition_id for r in found.values()})))}
    rows = {i: Row(found[i], versions[found[i].definition_id]) for i in ids if i in found}
    for task in session.scalars(select(HumanTask).where(
            HumanTask.instance_id.in_(ids), HumanTask.state == TaskStatus.OPEN)
            .order_by(HumanTask.due_at, HumanTask.created_at)):
        rows[task.instance_id].steps.append(task)
    for instance_id in session.scalars(select(Incident.instance_id).where(
            Incident.instance_id.in_(ids), Incident.status == IncidentStatus.OPEN)):
        rows[instance_id].incidents += 1
    keys = {r.instance.business_key for r in rows.values()}
    cases = {c.reference: c for c in session.scalars(select(Case).where(
        Case.reference.in_(keys)))}
    for row in rows.values():
        case = cases.get(row.instance.business_key)
        if case is not None:
            row.case_officer, row.area = case.case_officer, case.area
    return [rows[i] for i in ids if i in rows]


def first_page(f: Filters) -> Filters:
    """The same filters without a cursor."""
    return replace(f, after=None, before=None)
