"""What the engine reports to the audit trail; the sink that writes it is injected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from . import clock
from .models import HumanTask, ProcessInstance


@dataclass(frozen=True)
class EngineEvent:
    """Something the engine did, for the audit trail (written by the injected sink)."""

    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    business_key: str | None
    task_name: str | None = None
    summary: dict[str, Any] | None = None


AuditSink = Callable[[Session, EngineEvent], None]


class EngineAudit:
    """Builds engine events and hands them to the sink, in the caller's transaction."""

    def __init__(self, sink: AuditSink | None):
        self.sink = sink

    def task(self, session: Session, actor: str, action: str, task: HumanTask) -> None:
        """Report something that happened to a human task."""
        if self.sink is not None:
            self.sink(session, EngineEvent(
                at=clock.now(), actor=actor, action=action, object_type="task",
                object_id=task.id, business_key=task.business_key, task_name=task.name,
                summary={"role": task.role, "assignee": task.assignee,
                         "due_at": task.due_at.isoformat() if task.due_at else None}))

    def instance(self, session: Session, actor: str, action: str, row: ProcessInstance, *,
                 task_name: str | None = None, object_id: str | None = None,
                 summary: dict[str, Any] | None = None) -> None:
        """Report something that happened to a process instance."""
        if self.sink is not None:
            self.sink(session, EngineEvent(
                at=clock.now(), actor=actor, action=action, object_type="process_instance",
                object_id=object_id or str(row.id), business_key=row.business_key,
                task_name=task_name, summary=summary or {}))

    def message(self, session: Session, actor: str, action: str, business_key: str,
                summary: dict[str, Any]) -> None:
        """Report what became of a message to a case."""
        if self.sink is not None:
            self.sink(session, EngineEvent(at=clock.now(), actor=actor, action=action,
                                           object_type="message", object_id=None,
                                           business_key=business_key, summary=summary))
