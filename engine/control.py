"""Managers' control of process instances: suspend, resume, cancel, reassign tasks, retry.

Each operation takes the ``CaseEngine`` and the caller's session, locks the instance row as
``engine/runtime.py`` does, keeps the human-task projection and the timers consistent, reports
an engine audit event carrying the reason, flushes and never commits. A refusal raises before
anything is changed.

A suspended instance (``InstanceStatus.SUSPENDED``) has no due timer or retry, so the worker
never wakes it; its open tasks stay in the inboxes but cannot be claimed or completed, and
messages sent to its case wait undelivered until ``resume`` delivers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .audit import EngineEvent
from .errors import EngineError, TaskConflict
from .models import (
    HumanTask,
    Incident,
    IncidentStatus,
    InstanceStatus,
    ProcessInstance,
    StoredMessage,
    TaskStatus,
)
from .projection import status_of
from .runtime import ENDED, CaseEngine

MAX_REASON = 1000


class ActionRefused(EngineError):
    """The instance, task or incident is in a state that does not allow this action."""


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ActionRefused("give a reason")
    return text[:MAX_REASON]


def _not_ended(row: ProcessInstance) -> None:
    if row.status in ENDED:
        raise ActionRefused(f"the process has ended ({row.status.value})")


def _task_event(engine: CaseEngine, session: Session, actor: str, action: str,
                task: HumanTask, summary: dict[str, Any]) -> None:
    """Report a change to one human task with its reason (``EngineAudit.task`` has no summary)."""
    sink = engine.audit.sink
    if sink is not None:
        sink(session, EngineEvent(
            at=clock.now(), actor=actor, action=action, object_type="task", object_id=task.id,
            business_key=task.business_key, task_name=task.name,
            summary={"role": task.role, **summary}))


def suspend(engine: CaseEngine, session: Session, instance_id: int, actor: str,
            reason: str) -> ProcessInstance:
    """Hold an instance: no timer fires, no retry runs and no task completes until resumed."""
    why = _reason(reason)
    row = engine._lock(session, instance_id)
    _not_ended(row)
    if row.status is InstanceStatus.SUSPENDED:
        raise ActionRefused("the process is suspended already")
    was, now = row.status, clock.now()
    row.status, row.suspended_at = InstanceStatus.SUSPENDED, now
    row.next_timer_at = row.next_retry_at = None
    row.revision += 1
    row.updated_at = now
    engine.audit.instance(session, actor, "instance_suspended", row,
                          summary={"reason": why, "was": was.value})
    session.flush()
    return row


def resume(engine: CaseEngine, session: Session, instance_id: int, actor: str,
           reason: str) -> ProcessInstance:
    """Let a suspended instance go on: its timers and retries are due again (the worker fires
    what fell due meanwhile) and messages that came while it was held are delivered now."""
    why = _reason(reason)
    row = engine._lock(session, instance_id)
    if row.status is not InstanceStatus.SUSPENDED:
        raise ActionRefused("the process is not suspended")
    workflow = engine.load(row, session)
    since = row.suspended_at
    row.status, row.suspended_at = status_of(workflow), None
    row.next_retry_at = engine.incidents.next_retry(session, row)
    engine.audit.instance(session, actor, "instance_resumed", row, summary={"reason": why})
    with session.no_autoflush:
        follow = _deliver_held(engine, session, row, workflow, since, actor)
        row.revision += 1
        engine._save(session, row, workflow, actor=actor, follow_ups=follow)
    return row


def _deliver_held(engine: CaseEngine, session: Session, row: ProcessInstance,
                  workflow: BpmnWorkflow, since: datetime | None, actor: str
                  ) -> list[tuple[str, dict[str, Any]]]:
    """Deliver the messages to the case that nobody took while ``row`` was suspended."""
    if since is None:
        return []
    held = session.scalars(select(StoredMessage).where(
        StoredMessage.business_key == row.business_key, StoredMessage.delivered_at.is_(None),
        StoredMessage.received_at >= since)
        .order_by(StoredMessage.received_at, StoredMessage.id)).all()
    follow: list[tuple[str, dict[str, Any]]] = []
    for message in held:
        try:
            workflow.send_event(BpmnEvent(MessageEventDefinition(message.name),
                                          payload=message.payload or {}))
        except WorkflowException:
            continue
        message.delivered_at, message.instance_id = clock.now(), row.id
        message.note = "held while the process was suspended; delivered when it was resumed"
        engine.audit.instance(session, actor, "message_delivered", row,
                              summary={"message": message.name, "held": True})
        follow += engine._advance(session, row, workflow, actor)
    return follow


def cancel(engine: CaseEngine, session: Session, instance_id: int, actor: str,
           reason: str) -> ProcessInstance:
    """End an instance for good: its open tasks leave the inboxes, its incidents close."""
    why = _reason(reason)
    row = engine._lock(session, instance_id)
    _not_ended(row)
    workflow = engine.load(row, session)
    workflow.cancel()
    was, now = row.status, clock.now()
    with session.no_autoflush:
        open_tasks = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == row.id, HumanTask.state == TaskStatus.OPEN)
            .order_by(HumanTask.created_at, HumanTask.id)).all()
        for task in open_tasks:
            task.state, task.finished_at, task.finished_by = TaskStatus.CANCELLED, now, actor
            _task_event(engine, session, actor, "task_cancelled", task,
                        {"assignee": task.assignee, "reason": why})
        incidents = engine.incidents.open_for(session, row)
        for incident in incidents:
            incident.status, incident.next_retry_at = IncidentStatus.RESOLVED, None
            incident.resolved_at = incident.updated_at = now
        row.state_json = engine.serializer.dumps(workflow)
        row.serializer_version = engine.serializer.version
        row.status, row.ended_at, row.suspended_at = InstanceStatus.CANCELLED, now, None
        row.next_timer_at = row.next_retry_at = None
        row.revision += 1
        row.updated_at = now
        engine.audit.instance(session, actor, "instance_cancelled", row, summary={
            "reason": why, "was": was.value, "tasks_cancelled": len(open_tasks),
            "incidents_closed": len(incidents)})
    session.flush()
    return row


def reassign(engine: CaseEngine, session: Session, task_ids: Sequence[str], assignee: str,
             assignee_role: str, actor: str, reason: str) -> list[HumanTask]:
    """Give open tasks to ``assignee``, whose role must be each task's lane; all or none."""
    why = _reason(reason)
    if not task_ids:
        raise ActionRefused("choose at least one task")
    chosen: list[HumanTask] = []
    for task_id in dict.fromkeys(task_ids):
        row, task = engine._lock_for_task(session, task_id)
        _not_ended(row)
        if task.state is not TaskStatus.OPEN:
            raise TaskConflict(f"'{task.title}' was {task.state.value} meanwhile")
        if task.role != assignee_role:
            raise ActionRefused(f"'{task.title}' is work for the role {task.role or 'none'}, "
                                f"not {assignee_role}")
        chosen.append(task)
    changed: list[HumanTask] = []
    for task in chosen:
        if task.assignee == assignee:
            continue
        previous, task.assignee = task.assignee, assignee
        _task_event(engine, session, actor, "task_reassigned", task,
                    {"from": previous, "to": assignee, "reason": why})
        changed.append(task)
    session.flush()
    return changed


def retry(engine: CaseEngine, session: Session, incident_id: int, actor: str,
          reason: str) -> Incident:
    """Run an incident's failing service task again now; it stays open if it fails again."""
    why = _reason(reason)
    incident = engine.incidents.get(session, incident_id)
    row = engine._lock(session, incident.instance_id)
    incident = session.scalars(select(Incident).where(Incident.id == incident_id)
                               .execution_options(populate_existing=True)).one()
    _not_ended(row)
    if row.status is InstanceStatus.SUSPENDED:
        raise ActionRefused("the process is suspended: resume it first")
    if incident.status is not IncidentStatus.OPEN:
        raise ActionRefused("the incident is resolved already")
    engine.audit.instance(session, actor, "incident_retried", row, task_name=incident.task_name,
                          summary={"reason": why, "incident": incident.id,
                                   "attempts": incident.attempts})
    engine.retry_now(session, incident.id, actor)
    return incident
