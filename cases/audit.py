"""The audit trail: who viewed or changed what, when, and a summary of what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Select, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .audit_chain import normalise_summary
from .base import Base, Timestamp

# Field names whose values never enter the audit summary: only that they changed.
SENSITIVE_HINTS = ("name", "phone", "email", "address", "description", "note", "password",
                   "token", "dob", "birth")


class AuditEvent(Base):
    """One audited action; rows are only ever added."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case", "case_reference", "at"),
                      Index("ix_audit_events_actor", "actor", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(100))
    case_reference: Mapped[str | None] = mapped_column(String(100))
    task_name: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set once by ``audit_chain.seal`` (the worker): place on the chain and its hashes.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class AuditRecord:
    """What a layer below the audit table reports, to be written by ``record``."""

    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None = None
    case_reference: str | None = None
    task_name: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def record(session: Session, event: AuditRecord) -> AuditEvent:
    """Add one audit row in the caller's transaction (the worker seals it onto the chain)."""
    row = AuditEvent(
        at=event.at, actor=event.actor, action=event.action,
        object_type=event.object_type, object_id=event.object_id,
        case_reference=event.case_reference, task_name=event.task_name,
        summary=normalise_summary(redact(event.summary)),
    )
    session.add(row)
    if event.action in READING_ACTIONS and event.case_reference:
        from .audit_alerts import check_reader

        check_reader(session, event)
    return row


# Actions that mean a person read a case file: the unusual-reading alert counts these.
READING_ACTIONS = frozenset({"case.viewed", "case.process_viewed", "case.tasks_viewed"})


def redact(summary: dict[str, Any]) -> dict[str, Any]:
    """Keep the shape of a change summary but drop values of personal fields."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            out[key] = redact(value)
        elif any(hint in key.lower() for hint in SENSITIVE_HINTS):
            out[key] = "(changed)"
        else:
            out[key] = value
    return out


def trail_for_case(reference: str) -> Select[tuple[AuditEvent]]:
    """Select a case's audit trail, oldest first, for the caller to paginate."""
    return (select(AuditEvent).where(AuditEvent.case_reference == reference)
            .order_by(AuditEvent.at, AuditEvent.id))
