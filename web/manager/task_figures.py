"""The manager's figures about tasks: overdue tasks and officers' open work.

They join the engine's task projection (``human_tasks``) to the case record by the case
reference, which only the web layer may do (``cases`` and ``engine`` know nothing of each
other). Only tasks on cases count: a Case Review's or a complaint's own tasks have no case to
list behind the figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import aliased

from cases.figures import Filters, in_scope
from cases.figures_cases import FigureInvalid, check_params, newest_first
from cases.records import Case
from engine.models import HumanTask, TaskStatus

CASE_KEY_PREFIX = "ASB-"   # a case's reference; a Case Review's or complaint's differ
# Every due date is later than this. Bounding the range on both sides makes it selective
# enough that SQLite's planner, with statistics, reads ``ix_human_tasks_state_due`` (the
# overdue tasks alone) rather than every open task in name order to save a small sort.
EARLIEST_DUE = datetime(2000, 1, 1, tzinfo=UTC)

__all__ = ["TASK_FIGURES", "TASK_PARAMS", "cases_with_tasks", "officer_tasks", "overdue",
           "overdue_tasks"]

TASK_FIGURES = ("overdue_tasks", "workload")
TASK_PARAMS = {"overdue_tasks": ("task",), "workload": ("officer", "overdue")}
_LONGEST = 200


def _open_case_tasks(f: Filters) -> Select[Any]:
    """Open tasks on cases: joined to the case for an area or team, else by reference alone."""
    query = select().select_from(HumanTask).where(HumanTask.state == TaskStatus.OPEN)
    scope = in_scope(f)
    if scope:
        return query.join(Case, Case.reference == HumanTask.business_key).where(*scope)
    return query.where(HumanTask.business_key.like(f"{CASE_KEY_PREFIX}%"))


def overdue(now: datetime) -> ColumnElement[bool]:
    """The task's due date has passed."""
    return and_(HumanTask.due_at > EARLIEST_DUE, HumanTask.due_at < now)


def _title_of(name: Any) -> Any:
    """One open task's title for a task name (read once per group, not per task)."""
    other = aliased(HumanTask)
    return (select(other.title).where(other.state == TaskStatus.OPEN, other.name == name)
            .limit(1).scalar_subquery())


def overdue_tasks(f: Filters) -> Select[Any]:
    """Open tasks on cases past their due date, by task: how many, on how many cases, the
    oldest due date (``ix_human_tasks_state_due`` holds all of it)."""
    return (_open_case_tasks(f)
            .add_columns(HumanTask.name, _title_of(HumanTask.name).label("title"),
                         func.count().label("tasks"),
                         func.count(func.distinct(HumanTask.business_key)).label("cases"),
                         func.min(HumanTask.due_at).label("oldest"))
            .where(overdue(f.now))
            .group_by(HumanTask.name).order_by(func.count().desc(), HumanTask.name))


def officer_tasks(f: Filters, officers: list[str] | None = None) -> Select[Any]:
    """Open tasks on cases held by each officer (or only ``officers``): in all, and overdue."""
    overdue = func.sum(case((HumanTask.due_at < f.now, 1), else_=0))
    query = (_open_case_tasks(f)
             .add_columns(HumanTask.assignee, func.count().label("tasks"),
                          overdue.label("overdue"))
             .where(HumanTask.assignee.is_not(None))
             .group_by(HumanTask.assignee))
    return query if officers is None else query.where(HumanTask.assignee.in_(officers))


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name) or None
    if value is not None and (len(value) > _LONGEST or any(ord(ch) < 32 for ch in value)):
        raise FigureInvalid({name: f"The {name} is not a known one"})
    return value


def cases_with_tasks(figure: str, params: Mapping[str, str], f: Filters
                     ) -> Select[tuple[Case]]:
    """The cases behind a task figure: with an overdue task (of one kind, or one officer's),
    or with open tasks held by one officer."""
    check_params(params, TASK_PARAMS[figure])
    task, officer = _text(params, "task"), _text(params, "officer")
    tasks = select(HumanTask.business_key).where(HumanTask.state == TaskStatus.OPEN)
    if figure == "overdue_tasks" or params.get("overdue") == "yes":
        tasks = tasks.where(overdue(f.now))
    elif params.get("overdue"):
        raise FigureInvalid({"overdue": "Leave out overdue, or give yes"})
    if figure == "workload" and officer is None:
        raise FigureInvalid({"officer": "Choose officer"})
    if task is not None:
        tasks = tasks.where(HumanTask.name == task)
    if officer is not None:
        tasks = tasks.where(HumanTask.assignee == officer)
    return newest_first(select(Case).where(Case.reference.in_(tasks), *in_scope(f)))
