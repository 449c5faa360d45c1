"""What the database shows of a workflow: open human tasks, the next timer, the status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import HumanTask, InstanceStatus, ProcessInstance, TaskStatus

_TIMER_TYPES = ("TimeDateEventDefinition", "DurationTimerEventDefinition",
                "CycleTimerEventDefinition")


def status_of(workflow: BpmnWorkflow, *, cancelled: bool = False) -> InstanceStatus:
    """Derive an instance's status from its workflow, the one place this is decided."""
    if cancelled:
        return InstanceStatus.CANCELLED
    if workflow.is_completed():
        return InstanceStatus.COMPLETED
    if workflow.get_tasks(state=TaskState.ERROR):
        return InstanceStatus.INCIDENT
    if workflow.get_tasks(state=TaskState.READY | TaskState.STARTED):
        return InstanceStatus.RUNNING
    return InstanceStatus.WAITING


def to_utc(value: Any) -> datetime | None:
    """Read a timer or due value (ISO text or datetime) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    moment = (value if isinstance(value, datetime)
              else TimerEventDefinition.get_datetime(str(value)))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def next_timer(workflow: BpmnWorkflow) -> datetime | None:
    """Return when the earliest timer the workflow waits on falls due."""
    times: list[datetime] = []
    for pending in workflow.waiting_events():
        if pending.event_type in _TIMER_TYPES and isinstance(pending.value, str):
            try:
                moment = to_utc(pending.value)
            except ValueError:
                continue
            if moment is not None:
                times.append(moment)
    return min(times) if times else None


def _evaluate(task: Task, expression: str | None) -> Any:
    if not expression:
        return None
    try:
        return task.workflow.script_engine.evaluate(task, expression)
    except Exception:  # noqa: BLE001 - a property the diagram cannot compute yet stays empty
        return None


def ready_user_tasks(workflow: BpmnWorkflow) -> dict[str, Task]:
    """Return READY human tasks (user and manual tasks), subprocesses included, by id."""
    return {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}


def sync_tasks(session: Session, row: ProcessInstance, workflow: BpmnWorkflow, *,
               now: datetime, actor: str, on_new: Callable[[HumanTask], None] | None = None,
               fresh: bool = False) -> list[HumanTask]:
    """Bring the human-task rows of an instance in line with its workflow; return new rows."""
    ready = ready_user_tasks(workflow)
    rows: Sequence[HumanTask] = () if fresh else session.scalars(select(HumanTask).where(
        HumanTask.instance_id == row.id,
        or_(HumanTask.state == TaskStatus.OPEN, HumanTask.id.in_(list(ready))))).all()
    known = {r.id for r in rows}
    open_rows = [r for r in rows if r.state is TaskStatus.OPEN]
    for r in open_rows:
        if r.id in ready:
            continue
        task = _find(workflow, r.id)
        done = task is not None and task.has_state(TaskState.COMPLETED)
        r.state = TaskStatus.COMPLETED if done else TaskStatus.CANCELLED
        r.finished_at = now
        r.finished_by = r.finished_by or (actor if done else "system")
    created: list[HumanTask] = []
    for task_id, task in ready.items():
        if task_id in known:
            continue
        spec = task.task_spec
        props = (getattr(spec, "extensions", None) or {}).get("properties", {})
        try:
            due_at = to_utc(_evaluate(task, props.get("due")))
        except (TypeError, ValueError):
            due_at = None
        assignee = _evaluate(task, props.get("assignee"))
        new = HumanTask(
            id=task_id, instance_id=row.id, business_key=row.business_key,
            process_id=spec._wf_spec.name, name=spec.bpmn_id or spec.name,
            title=spec.bpmn_name or spec.bpmn_id or spec.name, role=spec.lane,
            assignee=str(assignee) if assignee else None, state=TaskStatus.OPEN,
            due_at=due_at, created_at=now, form_key=props.get("form"),
        )
        session.add(new)
        created.append(new)
        if on_new is not None:
            on_new(new)
    return created


def _find(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception:  # noqa: BLE001 - Spiff raises a generic error for unknown ids
        return None
