"""The inbox's queries: open tasks from the task projection joined to their cases, never a workflow.

Filters come from the query string and are checked against the values that exist; an unknown
value is dropped with a message for the page, so a hand-edited address never fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.datastructures import MultiDict

from cases.enums import Stage
from cases.people import Area, Role, User
from cases.records import Case
from engine.calendar import BusinessCalendar, default_calendar
from engine.models import HumanTask, TaskStatus
from web.access import CASE_KEY_PREFIX, case_filter

PER_PAGE = 25
PRIORITIES = ("1", "2", "3", "4")
DUE = {"overdue": "Overdue", "today": "Due today", "soon": "Due soon (within 2 working days)"}
SORTS = {"due": "Due date", "priority": "Priority"}
FILTER_NAMES = {"view": "view", "due": "due", "stage": "stage", "priority": "priority",
                "area": "area", "task": "task type", "sort": "sort order", "page": "page"}


def views_for(user: User) -> dict[str, str]:
    """The inbox tabs ``user`` has."""
    views = {"mine": "My tasks", "team": "Team's unclaimed tasks"}
    if user.role is Role.TEAM_LEADER:
        views["all_team"] = "All team tasks"
    return views


@dataclass
class Filters:
    """The inbox's checked query string."""

    view: str = "mine"
    due: str | None = None
    stage: str | None = None
    priority: str | None = None
    area: str | None = None
    task: str | None = None
    sort: str = "due"
    page: int = 1
    messages: list[str] = field(default_factory=list)

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string for a link that keeps these filters but for ``changes``."""
        current = {"view": self.view, "due": self.due, "stage": self.stage,
                   "priority": self.priority, "area": self.area, "task": self.task,
                   "sort": self.sort, "page": self.page}
        current.update(changes)
        defaults = {"view": "mine", "sort": "due", "page": 1}
        return {k: v for k, v in current.items() if v not in (None, "") and defaults.get(k) != v}


def task_types(session: Session) -> dict[str, str]:
    """Open task names with a title each, for the task type filter.

    A few dozen names among many thousands of open tasks: a recursive walk that jumps from one
    name to the next on ``ix_human_tasks_open_step`` reads one index entry per name, where a
    GROUP BY would read every open task.
    """
    is_open = HumanTask.state == TaskStatus.OPEN
    first = select(func.min(HumanTask.name)).where(is_open).scalar_subquery()
    names = select(first.label("name")).cte("names", recursive=True)
    after = (select(func.min(HumanTask.name)).where(is_open, HumanTask.name > names.c.name)
             .scalar_subquery())
    names = names.union_all(select(after).where(names.c.name.is_not(None)))
    # Any one title will do (a name's tasks share the diagram's title), so no sort.
    title = (select(HumanTask.title).where(is_open, HumanTask.name == names.c.name)
             .limit(1).scalar_subquery())
    rows = session.execute(select(names.c.name, title).where(names.c.name.is_not(None))
                           .order_by(names.c.name))
    return {name: title for name, title in rows}


def choices(session: Session) -> dict[str, dict[str, str]]:
    """Every filter's allowed values and their labels."""
    areas = session.scalars(select(Area.name).order_by(Area.name))
    return {"due": DUE, "stage": {s.value: s.value.replace("_", " ").capitalize() for s in Stage},
            "priority": {p: f"P{p}" for p in PRIORITIES},
            "area": {a: a for a in areas}, "task": task_types(session), "sort": SORTS}


def read_filters(args: MultiDict[str, str], user: User, allowed: dict[str, dict[str, str]]
                 ) -> Filters:
    """Check the query string; unknown values are ignored with a message."""
    found = Filters()
    views = views_for(user)
    for name in ("view", "due", "stage", "priority", "area", "task", "sort"):
        value = args.get(name, "").strip()
        if not value:
            continue
        options = views if name == "view" else allowed[name]
        if value in options:
            setattr(found, name, value)
        else:
            found.messages.append(f"The {FILTER_NAMES[name]} “{value[:40]}” is not known, "
                                  "so that filter was ignored.")
    raw_page = args.get("page", "1").strip() or "1"
    if raw_page.isdecimal() and 1 <= int(raw_page) <= 100_000:
        found.page = int(raw_page)
    else:
        found.messages.append(f"The page “{raw_page[:20]}” is not a page number, "
                              "so the first page is shown.")
    return found


def _end_of_day(cal: BusinessCalendar, day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), cal.tz)


def view_condition(user: User, view: str) -> ColumnElement[bool]:
    """The SQL condition for one inbox tab."""
    team = user.team.name if user.team is not None else None
    if view == "team":
        conditions = [HumanTask.assignee.is_(None), Case.team == team, case_filter(user)]
        if user.role is not Role.TEAM_LEADER:
            conditions.append(HumanTask.role == str(user.role))
        # Case Review and complaint work (its own reference, no case) waits for the role.
        standalone = and_(HumanTask.assignee.is_(None), HumanTask.role == str(user.role),
                          HumanTask.business_key.not_like(f"{CASE_KEY_PREFIX}%"))
        return or_(and_(*conditions), standalone)
    if view == "all_team" and user.role is Role.TEAM_LEADER:
        return Case.team == team
    return HumanTask.assignee == user.name


def due_condition(due: str, now: datetime, cal: BusinessCalendar) -> ColumnElement[bool]:
    """The SQL condition for overdue, due today, or due within the next 2 working days."""
    today = cal.local_date(now)
    end_today = _end_of_day(cal, today)
    if due == "overdue":
        return HumanTask.due_at < now
    if due == "today":
        return and_(HumanTask.due_at >= now, HumanTask.due_at < end_today)
    horizon = cal.next_working_day(cal.next_working_day(today))
    return and_(HumanTask.due_at >= end_today, HumanTask.due_at < _end_of_day(cal, horizon))


def inbox_query(user: User, f: Filters, now: datetime) -> Select[Any]:
    """Select ``(task, priority, stage, area)`` rows of one tab, filtered and ordered."""
    stmt = (select(HumanTask, Case.priority, Case.stage, Case.area)
            .outerjoin(Case, Case.reference == HumanTask.business_key)
            .where(HumanTask.state == TaskStatus.OPEN, view_condition(user, f.view)))
    if f.due:
        stmt = stmt.where(due_condition(f.due, now, default_calendar()))
    if f.stage:
        stmt = stmt.where(Case.stage == Stage(f.stage))
    if f.priority:
        stmt = stmt.where(Case.priority == int(f.priority))
    if f.area:
        stmt = stmt.where(Case.area == f.area)
    if f.task:
        stmt = stmt.where(HumanTask.name == f.task)
    by_due = (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
    if f.sort == "priority":
        return stmt.order_by(Case.priority.is_(None), Case.priority, *by_due)
    return stmt.order_by(*by_due)


def count(session: Session, stmt: Select[Any]) -> int:
    """How many rows ``stmt`` selects."""
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def counts(session: Session, user: User, now: datetime) -> dict[str, int]:
    """The live counts: each tab, and the caller's own overdue and due-today tasks."""
    found = {view: count(session, inbox_query(user, Filters(view=view), now))
             for view in views_for(user)}
    for due in ("overdue", "today"):
        found[f"mine_{due}"] = count(session, inbox_query(user, Filters(due=due), now))
    return found


@dataclass(frozen=True)
class Deadline:
    """A deadline as the inbox shows it."""

    date: str
    wording: str
    state: str  # "overdue", "today", "soon" or "later"


def _plural(n: int) -> str:
    return f"{n} working day{'s' if n != 1 else ''}"


def deadline(due_at: datetime | None, now: datetime, cal: BusinessCalendar | None = None
             ) -> Deadline | None:
    """The due date in Europe/London and "N working days left", "due today" or "overdue by N"."""
    if due_at is None:
        return None
    cal = cal or default_calendar()
    local = cal.to_aware(due_at).astimezone(cal.tz)
    shown = f"{local.day} {local:%B %Y}"
    if now > due_at:
        late = cal.working_days_between(due_at, now)
        wording = f"overdue by {_plural(late)}" if late else "overdue (was due today)"
        return Deadline(shown, wording, "overdue")
    if cal.local_date(now) == local.date():
        return Deadline(shown, "due today", "today")
    left = cal.working_days_between(now, due_at)
    return Deadline(shown, f"{_plural(left)} left", "soon" if left <= 2 else "later")


def pagination(total: int, f: Filters) -> tuple[int, int]:
    """Return ``(page, pages)``, the page clamped to the last one (with a message)."""
    pages = max(1, -(-total // PER_PAGE))
    if f.page > pages:
        f.messages.append(f"There is no page {f.page}; the last page is shown.")
        f.page = pages
    return f.page, pages
