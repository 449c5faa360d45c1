"""Incidents: failed service tasks kept visible and retried with exponential backoff."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import clock
from .errors import EngineError
from .models import Incident, IncidentStatus, ProcessInstance


class IncidentNotFound(EngineError):
    """No incident with that id."""


class IncidentBook:
    """Opens, schedules, retries and resolves incidents of process instances."""

    def __init__(self, max_attempts: int, backoff: timedelta):
        self.max_attempts = max_attempts
        self.backoff = backoff

    def delay(self, attempts: int) -> timedelta:
        """Backoff before retry number ``attempts`` + 1: 1, 2, 4, 8 ... times the base."""
        factor: int = 2 ** max(attempts - 1, 0)
        return self.backoff * factor

    @staticmethod
    def _mark(session: Session, row: ProcessInstance) -> None:
        session.info.setdefault("asb_incidents_touched", set()).add(row.id)

    @staticmethod
    def touched(session: Session, row: ProcessInstance) -> bool:
        """Tell whether this transaction opened or settled an incident of ``row``."""
        return row.id in session.info.get("asb_incidents_touched", ())

    def open(self, session: Session, row: ProcessInstance, task: Task, exc: Exception) -> Incident:
        """Record a failure of ``task``, or count another attempt on its open incident."""
        self._mark(session, row)
        now = clock.now()
        task_id = str(task.id)
        incident = session.scalar(select(Incident).where(
            Incident.instance_id == row.id, Incident.task_id == task_id,
            Incident.status == IncidentStatus.OPEN))
        message = (str(exc) or type(exc).__name__)[:2000]
        if incident is None:
            incident = Incident(
                instance_id=row.id, business_key=row.business_key, task_id=task_id,
                task_name=task.task_spec.bpmn_id or task.task_spec.name,
                operation=getattr(task.task_spec, "operation_name", None),
                error_type=type(exc).__name__, message=message, attempts=1,
                status=IncidentStatus.OPEN, created_at=now, updated_at=now)
            session.add(incident)
        else:
            incident.attempts += 1
            incident.error_type, incident.message, incident.updated_at = (
                type(exc).__name__, message, now)
        incident.next_retry_at = (now + self.delay(incident.attempts)
                                  if incident.attempts < self.max_attempts else None)
        session.flush()
        return incident

    def open_for(self, session: Session, row: ProcessInstance) -> list[Incident]:
        """Return the open incidents of an instance."""
        return list(session.scalars(select(Incident).where(
            Incident.instance_id == row.id, Incident.status == IncidentStatus.OPEN)))

    def next_retry(self, session: Session, row: ProcessInstance) -> datetime | None:
        """Return when the instance's earliest automatic retry falls due."""
        return session.scalar(select(func.min(Incident.next_retry_at)).where(
            Incident.instance_id == row.id, Incident.status == IncidentStatus.OPEN))

    def due_for_retry(self, session: Session, row: ProcessInstance, workflow: BpmnWorkflow,
                      now: datetime) -> list[Task]:
        """Return the failed tasks whose retry is due."""
        tasks = []
        for incident in self.open_for(session, row):
            if incident.next_retry_at is not None and incident.next_retry_at <= now:
                task = workflow.get_task_from_id(UUID(incident.task_id))
                if task.has_state(TaskState.ERROR):
                    tasks.append(task)
        return tasks

    def settle(self, session: Session, row: ProcessInstance, workflow: BpmnWorkflow,
               now: datetime) -> None:
        """Resolve incidents whose task no longer fails."""
        for incident in self.open_for(session, row):
            task = workflow.get_task_from_id(UUID(incident.task_id))
            if not task.has_state(TaskState.ERROR):
                self._mark(session, row)
                incident.status = IncidentStatus.RESOLVED
                incident.resolved_at = incident.updated_at = now
                incident.next_retry_at = None

    def get(self, session: Session, incident_id: int) -> Incident:
        """Return an incident by id."""
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise IncidentNotFound(f"no incident {incident_id}")
        return incident

    @staticmethod
    def make_due(incident: Incident, now: datetime) -> None:
        """Schedule an incident for an immediate retry (also after the last automatic one)."""
        if incident.status is IncidentStatus.OPEN:
            incident.next_retry_at = now
