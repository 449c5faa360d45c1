"""The engine's tables: definitions, instances, the human-task projection, incidents, messages."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import EngineBase, UTCDateTime


class InstanceStatus(enum.StrEnum):
    """Where a process instance stands, derived by ``status_of()``."""

    RUNNING = "running"  # has READY work (user tasks) or is mid-step
    WAITING = "waiting"  # only waits on timers or messages
    INCIDENT = "incident"  # a service task failed and waits for a retry
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"  # a manager held it: nothing advances until resumed (control.py)


class TaskStatus(enum.StrEnum):
    """State of a human task as the API shows it."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class IncidentStatus(enum.StrEnum):
    """An incident is open until a retry succeeds or someone resolves it."""

    OPEN = "open"
    RESOLVED = "resolved"


class DefinitionVersion(EngineBase):
    """One version of an executable process: its parsed spec bundle, stored once."""

    __tablename__ = "definition_versions"
    __table_args__ = (
        UniqueConstraint("process_id", "content_hash", name="uq_definition_versions_hash"),
        UniqueConstraint("process_id", "version", name="uq_definition_versions_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300))
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    sources: Mapped[dict[str, str]] = mapped_column(JSON, deferred=True)
    forms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict,
                                                  server_default=text("'{}'"))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))


class ProcessInstance(EngineBase):
    """A running (or finished) process, e.g. one ASB case, with its serialized state."""

    __tablename__ = "process_instances"
    __table_args__ = (
        Index("ix_process_instances_due", "next_timer_at"),
        Index("ix_process_instances_retry", "next_retry_at"),
        # The managers' instance list filters, each walked newest first (keyset on id).
        Index("ix_process_instances_list_status", "status", "id"),
        Index("ix_process_instances_list_process", "process_id", "id"),
        Index("ix_process_instances_list_version", "definition_id", "id"),
        Index("ix_process_instances_list_started", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_key: Mapped[str] = mapped_column(String(100), index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    status: Mapped[InstanceStatus] = mapped_column(
        Enum(InstanceStatus, native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]),
        index=True,
    )
    serializer_version: Mapped[str] = mapped_column(String(20))
    state_json: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    definition: Mapped[DefinitionVersion] = relationship(lazy="select")


_task_status = Enum(TaskStatus, native_enum=False, length=20,
                    values_callable=lambda e: [m.value for m in e])


class HumanTask(EngineBase):
    """The projection of user tasks: one row per READY user task, kept after it finishes."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_inbox", "state", "assignee", "due_at", "id"),
        Index("ix_human_tasks_role", "state", "role", "due_at", "id"),
        Index("ix_human_tasks_case", "business_key", "created_at"),
        # The managers' instance list, probed per instance: at a step; with overdue work.
        Index("ix_human_tasks_open_step", "state", "name", "instance_id"),
        Index("ix_human_tasks_open_due", "instance_id", "state", "due_at"),
        # The manager's dashboard: open tasks past their due date (migration 0008d).
        Index("ix_human_tasks_state_due", "state", "due_at", "name", "business_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the Spiff task UUID
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    business_key: Mapped[str] = mapped_column(String(100))
    process_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    role: Mapped[str | None] = mapped_column(String(50))
    assignee: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[TaskStatus] = mapped_column(_task_status, default=TaskStatus.OPEN)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_by: Mapped[str | None] = mapped_column(String(100))
    form_key: Mapped[str | None] = mapped_column(String(200))


class Incident(EngineBase):
    """A service task that failed with no BPMN error handler: visible and retryable."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    business_key: Mapped[str] = mapped_column(String(100), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(200))
    operation: Mapped[str | None] = mapped_column(String(200))
    error_type: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[IncidentStatus] = mapped_column(
        Enum(IncidentStatus, native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]),
        default=IncidentStatus.OPEN, index=True,
    )
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoredMessage(EngineBase):
    """A message delivered to a case: consumed by its instance, or kept when nobody waits."""

    __tablename__ = "stored_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    note: Mapped[str | None] = mapped_column(String(300))
