"""What a manager's instance page shows, read from the engine's tables and the workflow.

The task history (who and when), the variables as names and readable values (never the
serialized state), the pending timers with their due times, the messages the instance took,
its incidents; and, per definition version, where instances are now and how long each step
took on average (the heatmap). Nothing here changes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from .errors import DefinitionNotFound, StateFormatUnknown
from .models import (
    HumanTask,
    Incident,
    IncidentStatus,
    InstanceStatus,
    ProcessInstance,
    StoredMessage,
    TaskStatus,
)
from .projection import to_utc
from .runtime import CaseEngine

MAX_TEXT = 200
MAX_ITEMS = 20
_FRONTIER = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass(frozen=True)
class Variable:
    """One workflow variable as people read it: its name and its value in words."""

    name: str
    value: str


@dataclass(frozen=True)
class PendingTimer:
    """A timer the instance waits on: the element, and when it falls due."""

    element_id: str
    name: str
    due_at: datetime
    deadline: bool  # a boundary timer watching a step, rather than a wait


@dataclass
class InstanceDetails:
    """Everything the instance page lists besides the diagram."""

    row: ProcessInstance
    tasks: list[HumanTask] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    timers: list[PendingTimer] = field(default_factory=list)
    messages: list[StoredMessage] = field(default_factory=list)
    held: list[StoredMessage] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    readable: bool = True  # False when the stored state could not be loaded


def details(engine: CaseEngine, session: Session, row: ProcessInstance, *,
            withhold: Callable[[str], bool] | None = None) -> InstanceDetails:
    """Gather the page's lists; values of variables ``withhold`` names are not shown."""
    found = InstanceDetails(row, tasks=task_history(session, row.id),
                            messages=messages_received(session, row.id),
                            held=held_messages(session, row),
                            incidents=incidents_of(session, row.id))
    try:
        workflow = engine.load(row, session)
    except (StateFormatUnknown, DefinitionNotFound):
        found.readable = False
        return found
    found.variables = variables(workflow, withhold)
    if row.status not in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        found.timers = pending_timers(workflow)
    return found


def task_history(session: Session, instance_id: int) -> list[HumanTask]:
    """Every human task the instance opened, oldest first, open or finished."""
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                .order_by(HumanTask.created_at, HumanTask.finished_at.is_(None),
                                          HumanTask.finished_at, HumanTask.id)))


def messages_received(session: Session, instance_id: int) -> list[StoredMessage]:
    """The messages this instance took, oldest first."""
    return list(session.scalars(select(StoredMessage).where(
        StoredMessage.instance_id == instance_id)
        .order_by(StoredMessage.received_at, StoredMessage.id)))


def held_messages(session: Session, row: ProcessInstance) -> list[StoredMessage]:
    """Messages to the case that wait while ``row`` is suspended (delivered on resume)."""
    if row.status is not InstanceStatus.SUSPENDED or row.suspended_at is None:
        return []
    return list(session.scalars(select(StoredMessage).where(
        StoredMessage.business_key == row.business_key, StoredMessage.delivered_at.is_(None),
        StoredMessage.received_at >= row.suspended_at)
        .order_by(StoredMessage.received_at, StoredMessage.id)))


def incidents_of(session: Session, instance_id: int) -> list[Incident]:
    """The instance's incidents: open ones first, then the newest."""
    still_open = case((Incident.status == IncidentStatus.OPEN, 0), else_=1)
    return list(session.scalars(select(Incident).where(Incident.instance_id == instance_id)
                                .order_by(still_open, Incident.created_at.desc(),
                                          Incident.id.desc())))


# -- variables ------------------------------------------------------------------------------

def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The data the instance carries now: its open tasks' data, the latest change winning."""
    tasks: list[Task] = workflow.get_tasks(state=_FRONTIER)
    if not tasks:
        finished: list[Task] = workflow.get_tasks(state=TaskState.COMPLETED)
        tasks = finished[-1:]
    data: dict[str, Any] = {}
    for task in sorted(tasks, key=lambda t: t.last_state_change):
        data.update(task.data)
    return data


def variables(workflow: BpmnWorkflow, withhold: Callable[[str], bool] | None = None
              ) -> list[Variable]:
    """The instance's variables by name, each value in words (long values shortened)."""
    hidden = withhold or (lambda _name: False)
    found = []
    for name, value in sorted(current_data(workflow).items()):
        if not isinstance(name, str) or name.startswith("_") or name == "data_objects":
            continue
        shown = "(not shown here)" if hidden(name) else readable(value, hidden)
        found.append(Variable(name, shown))
    return found


def readable(value: Any, hidden: Callable[[str], bool] | None = None, depth: int = 0) -> str:
    """A value in words: yes/no, numbers, text, lists joined, fields as 'name: value'."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, datetime, date)):
        return str(value)
    if isinstance(value, (list, tuple)):
        parts = [readable(v, hidden, depth + 1) for v in value[:MAX_ITEMS]]
        more = f" and {len(value) - MAX_ITEMS} more" if len(value) > MAX_ITEMS else ""
        return _short("; ".join(parts) + more) if parts else "(none)"
    if isinstance(value, dict):
        if depth > 1:
            return f"({len(value)} fields)"
        hide = hidden or (lambda _name: False)
        parts = [f"{k}: {'(not shown here)' if hide(str(k)) else readable(v, hide, depth + 1)}"
                 for k, v in list(value.items())[:MAX_ITEMS]]
        return _short("; ".join(parts)) if parts else "(none)"
    return _short(str(value))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


# -- timers ---------------------------------------------------------------------------------

def pending_timers(workflow: BpmnWorkflow) -> list[PendingTimer]:
    """The timers the instance waits on now, soonest first (subprocesses included)."""
    found = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        try:
            due = to_utc(definition.details(task).value)
        except (TypeError, ValueError):
            continue
        if due is None:
            continue
        found.append(PendingTimer(spec.bpmn_id or spec.name, spec.bpmn_name or spec.bpmn_id
                                  or spec.name, due, isinstance(spec, BoundaryEvent)))
    return sorted(found, key=lambda t: (t.due_at, t.element_id))


# -- the heatmap ----------------------------------------------------------------------------

@dataclass
class StepFigures:
    """One step of a definition version: instances at it now, and time spent at it."""

    process_id: str
    element_id: str
    title: str
    now: int = 0
    incidents: int = 0
    finished: int = 0
    average_seconds: int | None = None


def _seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def step_figures(session: Session, definition_id: int) -> list[StepFigures]:
    """Per step of one version: open tasks and incidents now, and the mean time to finish."""
    steps: dict[tuple[str, str], StepFigures] = {}

    def at(process_id: str, element_id: str, title: str) -> StepFigures:
        key = (process_id, element_id)
        if key not in steps:
            steps[key] = StepFigures(process_id, element_id, title)
        return steps[key]

    of_version = ProcessInstance.definition_id == definition_id
    live = ProcessInstance.status != InstanceStatus.CANCELLED
    for process_id, name, title, count in session.execute(
            select(HumanTask.process_id, HumanTask.name, func.max(HumanTask.title), func.count())
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(of_version, live, HumanTask.state == TaskStatus.OPEN)
            .group_by(HumanTask.process_id, HumanTask.name)):
        at(process_id, name, title).now = int(count)
    seconds = _seconds_between(session, HumanTask.created_at, HumanTask.finished_at)
    for process_id, name, title, count, average in session.execute(
            select(HumanTask.process_id, HumanTask.name, func.max(HumanTask.title), func.count(),
                   func.avg(seconds))
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(of_version, HumanTask.state == TaskStatus.COMPLETED,
                   HumanTask.finished_at.is_not(None))
            .group_by(HumanTask.process_id, HumanTask.name)):
        step = at(process_id, name, title)
        step.finished = int(count)
        step.average_seconds = None if average is None else max(round(float(average)), 0)
    for name, count in session.execute(
            select(Incident.task_name, func.count())
            .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
            .where(of_version, Incident.status == IncidentStatus.OPEN)
            .group_by(Incident.task_name)):
        at("", name, name).incidents = int(count)
    return sorted(steps.values(), key=lambda s: (-s.now - s.incidents, s.process_id, s.title))
