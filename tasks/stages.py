"""Stages an officer starts on an open case: referrals, evidence requests, legal action...

Each stage is its own process instance with the case reference as its business key, so
messages to the case (``CaseEngine.send_message``) reach whichever of its processes waits for
them. A module that owns a stage registers it here with ``register_stage``; the case file
lists the registered stages and starts them through ``start_stage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.operations import case_by_reference
from cases.people import Role, User, find_user
from cases.records import Case, CaseDataInvalid, CaseStatus
from engine.migration import version_for
from engine.models import ProcessInstance
from engine.runtime import CaseEngine

from .cases_service import CASE_PROCESS


@dataclass(frozen=True)
class StageInfo:
    """A stage as the case file offers it."""

    process_id: str
    title: str          # the button: "Refer to partner agencies"
    hint: str           # one sentence under it
    group: str          # "support", "evidence", "legal", "challenge"
    single: bool = False  # at most one running at a time per case (a legal tool, say)


STAGES: dict[str, StageInfo] = {}
GROUPS = {"support": "Support and partners", "evidence": "Evidence",
          "legal": "Legal action", "challenge": "Case Review and complaints"}
STARTING_ROLES = (Role.OFFICER, Role.TEAM_LEADER)


def register_stage(process_id: str, title: str, hint: str, group: str, *,
                   single: bool = False) -> None:
    """Offer ``process_id`` on the case file (idempotent per process id)."""
    if group not in GROUPS:
        raise ValueError(f"unknown stage group {group!r}; one of {sorted(GROUPS)}")
    STAGES[process_id] = StageInfo(process_id, title, hint, group, single)


def _team_leader(session: Session, officer: User | None) -> str | None:
    if officer is None or officer.team_id is None:
        return None
    return session.scalars(select(User.name).where(
        User.role == Role.TEAM_LEADER, User.active.is_(True),
        User.team_id == officer.team_id).order_by(User.name)).first()


def stage_start_data(session: Session, case: Case, actor: str) -> dict[str, Any]:
    """What every stage process starts with: routing facts only, never personal details."""
    officer = find_user(session, case.case_officer) if case.case_officer else None
    return {
        "case_reference": case.reference,
        "case_officer": case.case_officer,
        "team_leader": _team_leader(session, officer),
        "priority": case.priority or 2,
        "safeguarding": bool(case.safeguarding),
        "hate": bool(case.hate),
        "area": case.area,
        "started_by": actor,
    }


def running_stages(session: Session, engine: CaseEngine, reference: str) -> list[ProcessInstance]:
    """The case's running stage instances (registered stages only), oldest first."""
    return [row for row in engine.instances_for(session, reference)
            if row.process_id in STAGES]


def start_stage(session: Session, engine: CaseEngine, reference: str, process_id: str, *,
                actor: str, data: dict[str, Any] | None = None) -> ProcessInstance:
    """Start a registered stage on an open case; refuse with ``CaseDataInvalid`` otherwise."""
    stage = STAGES.get(process_id)
    if stage is None:
        raise CaseDataInvalid("stage", "select one of the actions listed")
    user = find_user(session, actor)
    if user is None or not user.active or user.role not in STARTING_ROLES:
        raise CaseDataInvalid("actor", "only an officer or a team leader may start a stage")
    case = case_by_reference(session, reference)
    if case.status is not CaseStatus.OPEN:
        raise CaseDataInvalid("reference", "the case is closed: re-open it first")
    if stage.single and any(row.process_id == process_id
                            for row in running_stages(session, engine, reference)):
        raise CaseDataInvalid("stage", f"“{stage.title}” is already under way on this case")
    start = {**stage_start_data(session, case, actor), **(data or {})}
    # The case runs the versions published when it started, or when it was last migrated.
    version = version_for(session, engine.definitions, case.reference, process_id,
                          anchor_process=CASE_PROCESS)
    return engine.start(session, process_id, case.reference, start, actor=actor, version=version)
