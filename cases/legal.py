"""Legal action on a case: one row per use of a tool, and the dated steps taken under it.

Every tool of the Anti-social Behaviour, Crime and Policing Act 2014 that the diagrams model
(bpmn/legal_*.bpmn) records here, so the case file, the reporter's updates and the manager's
figures ("legal actions by type and outcome") read one table. Statutory dates a step fixes
(time to comply, appeal window, hearing deadline) are kept with the step as ``due_at``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.audit import AuditRecord, record
from cases.base import Base, Timestamp, str_enum
from cases.records import Case, CaseDataInvalid

MAX_SUMMARY = 4000


class LegalTool(enum.StrEnum):
    """The tools the diagrams model (DOMAIN.md, "Actions and the legal toolkit")."""

    WARNING_LETTER = "warning_letter"
    ACCEPTABLE_BEHAVIOUR_AGREEMENT = "acceptable_behaviour_agreement"
    COMMUNITY_PROTECTION = "community_protection"      # warning, then notice
    CIVIL_INJUNCTION = "civil_injunction"
    CLOSURE = "closure"                                # closure notice, then order
    POSSESSION = "possession"                          # absolute ground for possession


class LegalStatus(enum.StrEnum):
    OPEN = "open"
    ENDED = "ended"




class LegalAction(Base):
    """One use of a legal tool on a case, from its first step to its outcome."""

    __tablename__ = "legal_actions"
    # The manager's dashboard: actions started in a period, by tool and outcome (0008d).
    __table_args__ = (Index("ix_legal_actions_started_figures", "started_at", "tool", "status",
                            "outcome", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    tool: Mapped[LegalTool] = mapped_column(str_enum(LegalTool, "legal_tool", length=40),
                                            index=True)
    status: Mapped[LegalStatus] = mapped_column(str_enum(LegalStatus, "legal_status", length=40))
    respondent: Mapped[str | None] = mapped_column(String(200))   # how the file names them
    started_at: Mapped[datetime] = mapped_column(Timestamp())
    started_by: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp())
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LegalStep(Base):
    """A dated step under a legal action: served, heard, reviewed, breached..."""

    __tablename__ = "legal_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("legal_actions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(Timestamp())
    step: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(Timestamp())


def _audit(session: Session, case: Case, action: str, by: str, at: datetime,
           detail: dict[str, Any]) -> None:
    record(session, AuditRecord(at=at, actor=by, action=action, object_type="legal_action",
                                object_id=str(detail["legal_action"]),
                                case_reference=case.reference, summary=detail))


def open_action(session: Session, case: Case, tool: LegalTool | str, *, at: datetime, by: str,
                respondent: str | None = None, details: dict[str, Any] | None = None
                ) -> LegalAction:
    """Start a legal action on the case."""
    try:
        chosen = LegalTool(tool)
    except ValueError:
        raise CaseDataInvalid("tool", f"unknown legal tool '{tool}'") from None
    action = LegalAction(case_id=case.id, tool=chosen, status=LegalStatus.OPEN,
                         respondent=(respondent or "").strip()[:200] or None, started_at=at,
                         started_by=by, details=dict(details or {}))
    session.add(action)
    session.flush()
    _audit(session, case, "legal.opened", by, at, {"legal_action": action.id, "tool": str(chosen)})
    return action


def record_step(session: Session, action: LegalAction, step: str, *, at: datetime, by: str,
                summary: str = "", due_at: datetime | None = None) -> LegalStep:
    """Record a dated step under ``action``."""
    if action.status is LegalStatus.ENDED:
        raise CaseDataInvalid("legal_action", "the legal action has ended")
    name = step.strip()[:64]
    if not name:
        raise CaseDataInvalid("step", "name the step")
    row = LegalStep(action_id=action.id, at=at, step=name, summary=summary.strip()[:MAX_SUMMARY],
                    by=by, due_at=due_at)
    session.add(row)
    session.flush()
    return row


def end_action(session: Session, case: Case, action: LegalAction, outcome: str, *,
               at: datetime, by: str) -> LegalAction:
    """Close the action with its outcome (granted, refused, complied, breached, withdrawn...)."""
    if action.status is LegalStatus.ENDED:
        raise CaseDataInvalid("legal_action", "the legal action has already ended")
    action.status, action.outcome, action.ended_at = LegalStatus.ENDED, outcome.strip()[:64], at
    _audit(session, case, "legal.ended", by, at,
           {"legal_action": action.id, "tool": str(action.tool), "outcome": action.outcome})
    return action


def open_action_of(session: Session, case: Case, tool: LegalTool | str) -> LegalAction | None:
    """The case's open action with this tool, newest first, or None."""
    return session.scalars(select(LegalAction).where(
        LegalAction.case_id == case.id, LegalAction.tool == LegalTool(tool),
        LegalAction.status == LegalStatus.OPEN).order_by(LegalAction.id.desc())).first()


def actions_of(session: Session, case: Case) -> list[LegalAction]:
    """Every legal action on the case, oldest first."""
    return list(session.scalars(select(LegalAction).where(LegalAction.case_id == case.id)
                                .order_by(LegalAction.id)))


def steps_of(session: Session, action: LegalAction) -> list[LegalStep]:
    return list(session.scalars(select(LegalStep).where(LegalStep.action_id == action.id)
                                .order_by(LegalStep.at, LegalStep.id)))


__all__ = ["LegalAction", "LegalStatus", "LegalStep", "LegalTool", "actions_of",
           "end_action", "open_action", "open_action_of", "record_step", "steps_of"]
