"""The manager's figures over the case record, each one aggregated by the database.

Every figure is a function of ``Filters`` (a range of months, an area or a team, and the
moment "now") returning a ``Select`` that groups in SQL, so the dashboard reads a few grouped
rows, never the cases themselves. The definitions are written out in docs/dashboard.md;
``cases.figures_period`` has the figures about a period (hate, legal action, referrals, Case
Reviews, NM01) and ``cases.figures_cases`` the lists of cases behind each figure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)

from cases.config import LOCAL_TZ
from cases.enums import CaseStatus
from cases.records import Case

__all__ = [
    "MAX_MONTHS", "Filters", "FiltersInvalid", "first_contact_by_month",
    "first_contact_now", "in_period", "in_scope", "met", "missed", "month_bounds",
    "month_label", "month_start", "next_month", "open_by_officer", "open_officer_count",
    "open_snapshot", "pending", "read_filters", "share", "updates_overdue",
    "waiting_for_first_contact",
]

MAX_MONTHS = 36
_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")


class FiltersInvalid(ValueError):
    """The dashboard's filters were refused; ``errors`` maps each parameter to why."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def month_start(month: date) -> datetime:
    """Midnight in London on the first day of ``month``, as UTC."""
    return datetime.combine(month.replace(day=1), time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_label(month: date) -> str:
    """The month as the filters and the CSV files write it, e.g. ``2026-12``."""
    return f"{month.year:04d}-{month.month:02d}"


@dataclass(frozen=True)
class Filters:
    """What a manager chose: whole months (London) from ``first`` to ``last``, an area, a team."""

    first: date
    last: date
    now: datetime
    area: str | None = None
    team: str | None = None

    @property
    def start(self) -> datetime:
        return month_start(self.first)

    @property
    def end(self) -> datetime:
        return month_start(next_month(self.last))

    @property
    def today_ends(self) -> datetime:
        """Midnight in London at the end of today."""
        today = self.now.astimezone(LOCAL_TZ).date()
        return datetime.combine(today + timedelta(days=1), time(0), tzinfo=LOCAL_TZ
                                ).astimezone(UTC)

    def months(self) -> list[date]:
        """Every month of the period, oldest first."""
        found, month = [], self.first
        while month <= self.last:
            found.append(month)
            month = next_month(month)
        return found

    def args(self) -> dict[str, str]:
        """The filters as query-string parameters (dates and codes only)."""
        args = {"from": month_label(self.first), "to": month_label(self.last)}
        if self.area is not None:
            args["area"] = self.area
        if self.team is not None:
            args["team"] = self.team
        return args


def _month(value: str, field: str, errors: dict[str, str]) -> date | None:
    found = _MONTH_RE.fullmatch(value.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12 \
            or not 2000 <= int(found.group(1)) <= 2100:
        errors[field] = "Enter a month as year and month, like 2027-01"
        return None
    return date(int(found.group(1)), int(found.group(2)), 1)


def read_filters(args: Mapping[str, str], now: datetime, *, areas: Iterable[str],
                 teams: Iterable[str]) -> Filters:
    """Read ``from``, ``to``, ``area`` and ``team``; the default is the 12 months to this one."""
    errors: dict[str, str] = {}
    this_month = now.astimezone(LOCAL_TZ).date().replace(day=1)
    last = _month(args["to"], "to", errors) if args.get("to") else this_month
    first = _month(args["from"], "from", errors) if args.get("from") else None
    if first is None and "from" not in errors and last is not None:
        index = last.year * 12 + last.month - 1 - 11
        first = date(index // 12, index % 12 + 1, 1)
    if first is not None and last is not None:
        span = (last.year - first.year) * 12 + last.month - first.month + 1
        if span < 1:
            errors["to"] = "The last month must be the same as or after the first month"
        elif span > MAX_MONTHS:
            errors["from"] = f"Choose a period of at most {MAX_MONTHS} months"
    chosen: dict[str, str | None] = {}
    for name, known, what in (("area", set(areas), "an area"), ("team", set(teams), "a team")):
        value = (args.get(name) or "").strip() or None
        if value is not None and value not in known:
            errors[name] = f"Choose {what} from the list"
        chosen[name] = value
    if errors or first is None or last is None:
        raise FiltersInvalid(errors)
    return Filters(first, last, now, area=chosen["area"], team=chosen["team"])


def in_scope(f: Filters) -> list[ColumnElement[bool]]:
    """The conditions on ``Case`` for the chosen area and team."""
    conditions: list[ColumnElement[bool]] = []
    if f.area is not None:
        conditions.append(Case.area == f.area)
    if f.team is not None:
        conditions.append(Case.team == f.team)
    return conditions


def in_period(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    """``start <= column < end``."""
    return and_(column >= start, column < end)


def month_bounds(f: Filters) -> list[tuple[date, datetime, datetime]]:
    """Each month of the period with its start and end as UTC."""
    return [(m, month_start(m), month_start(next_month(m))) for m in f.months()]


def share(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` to one decimal place (None when nothing counts)."""
    return round(100.0 * part / whole, 1) if whole else None


# -- promise 2: first contact within 1 or 5 working days ------------------------------------

def met() -> ColumnElement[bool]:
    """First contact made by its deadline."""
    return and_(Case.first_contact_at.is_not(None),
                Case.first_contact_at <= Case.first_contact_due_at)


def missed(now: datetime) -> ColumnElement[bool]:
    """First contact made late, or not made and the deadline has passed."""
    return or_(Case.first_contact_at > Case.first_contact_due_at,
               and_(Case.first_contact_at.is_(None), Case.first_contact_due_at < now))


def pending(now: datetime) -> ColumnElement[bool]:
    """No first contact yet, and the deadline is still to come."""
    return and_(Case.first_contact_at.is_(None), Case.first_contact_due_at >= now)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def first_contact_by_month(f: Filters) -> Select[Any] | CompoundSelect[Any]:
    """Cases received in each month of the period by priority: received, contacted, met, and
    overdue without contact (late = contacted - met; missed = late + overdue; the rest are
    pending).

    One ``UNION ALL`` part per month, each a range of ``ix_cases_received_figures`` per
    priority: no sort of the whole period, and no month arithmetic on each row.
    """
    parts = [select(literal(month_label(month), String).label("month"),
                    Case.priority.label("priority"), func.count().label("received"),
                    func.count(Case.first_contact_at).label("contacted"),
                    func.sum(_flag(met())).label("met"),
                    func.sum(_flag(and_(Case.first_contact_at.is_(None),
                                        Case.first_contact_due_at < f.now))).label("overdue"))
             .where(Case.priority.in_((1, 2)), in_period(Case.received_at, start, end),
                    Case.first_contact_due_at.is_not(None), *in_scope(f))
             .group_by(Case.priority)
             for month, start, end in month_bounds(f)]
    return parts[0] if len(parts) == 1 else union_all(*parts)


def waiting_for_first_contact() -> list[ColumnElement[bool]]:
    """Open cases whose first contact is still to be made."""
    return [Case.status == CaseStatus.OPEN, Case.first_contact_at.is_(None),
            Case.first_contact_due_at.is_not(None)]


def first_contact_now(f: Filters) -> Select[Any]:
    """Open cases by priority breaching first contact now, and due for it later today."""
    return (select(Case.priority,
                   func.sum(_flag(Case.first_contact_due_at < f.now)).label("breaching"),
                   func.sum(_flag(Case.first_contact_due_at >= f.now)).label("due_today"))
            .where(*waiting_for_first_contact(), Case.first_contact_due_at < f.today_ends,
                   *in_scope(f))
            .group_by(Case.priority).order_by(Case.priority))


# -- open cases now ------------------------------------------------------------------------

def open_snapshot(f: Filters) -> Select[Any]:
    """Open cases grouped by priority, stage, category and area, with the victims' flags.

    One pass over the open cases in the order of ``ix_cases_open_figures``, so the database
    groups as it reads (no sort); at most 2 x 9 x 3 x (areas + 1) rows come back, for the
    caller to add up by each breakdown.
    """
    repeat = cast(Case.repeat_victim, Integer)
    vulnerable = cast(Case.safeguarding, Integer)
    return (select(Case.priority.label("priority"), Case.stage.label("stage"),
                   Case.category.label("category"), Case.area.label("area"),
                   func.count().label("cases"), func.sum(repeat).label("repeat"),
                   func.sum(vulnerable).label("vulnerable"),
                   func.sum(repeat * vulnerable).label("both"))
            .where(Case.status == CaseStatus.OPEN, *in_scope(f))
            .group_by(Case.priority, Case.stage, Case.category, Case.area))


def open_by_officer(f: Filters, limit: int | None = None) -> Select[Any]:
    """Open cases per case officer (all, and priority 1), the most first; ``limit`` officers.

    Grouped as ``ix_cases_open_officers`` is read; only the ranking sorts, by officer.
    """
    query = (select(Case.case_officer.label("officer"), func.count().label("cases"),
                    func.sum(_flag(Case.priority == 1)).label("p1"))
             .where(Case.status == CaseStatus.OPEN, *in_scope(f))
             .group_by(Case.case_officer)
             .order_by(func.count().desc(), Case.case_officer))
    return query if limit is None else query.limit(limit)


def open_officer_count(f: Filters) -> Select[Any]:
    """How many officers (and "no officer") hold open cases."""
    groups = (select(Case.case_officer).where(Case.status == CaseStatus.OPEN, *in_scope(f))
              .group_by(Case.case_officer).subquery())
    return select(func.count()).select_from(groups)


def updates_overdue(f: Filters) -> Select[Any]:
    """Open cases whose next agreed update to the reporter is overdue, by agreed frequency."""
    return (select(Case.update_frequency, func.count().label("cases"),
                   func.min(Case.next_update_due_at).label("oldest"))
            .where(Case.status == CaseStatus.OPEN, Case.next_update_due_at < f.now,
                   *in_scope(f))
            .group_by(Case.update_frequency).order_by(Case.update_frequency))
