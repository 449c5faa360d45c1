"""What opens and feeds a case: one transaction records the report and starts its process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from cases import config as council_config
from cases import operations as ops
from cases.records import Case, CaseDataInvalid, CaseStatus, ContactKind, IncidentSource
from engine import clock
from engine.runtime import CaseEngine

CASE_PROCESS = "asb_case"
VULNERABILITY_FLAGS = ("child_at_risk", "vulnerable_adult", "threat_of_violence", "high_risk",
                       "repeat_victim")


def _start_data(case: Case, report: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The routing facts the process needs; personal details stay in the case record."""
    given = report.get("vulnerability") if isinstance(report.get("vulnerability"), dict) else {}
    data: dict[str, Any] = {
        "case_reference": case.reference,
        "received_at": case.received_at.isoformat(),
        "channel": str(case.channel),
        "hate": bool(case.hate_strands),
        "area": case.area,
        "reopened": False,
    }
    for flag in VULNERABILITY_FLAGS:
        data[flag] = bool(given.get(flag, False))
    data["repeat_victim"] = data["repeat_victim"] or case.repeat_victim
    data.update(extra)
    return data


def open_case(session: Session, engine: CaseEngine, report: Mapping[str, Any], *,
              actor: str, received_at: datetime | None = None,
              linked_from: Case | None = None) -> Case:
    """Record a report as a new case and start its lifecycle (priority decided on the way)."""
    now = clock.now()
    case = ops.open_case(session, report, received_at=received_at or now, now=now, actor=actor,
                         linked_from=linked_from)
    engine.start(session, CASE_PROCESS, case.reference, _start_data(case, report), actor=actor)
    return case


@dataclass(frozen=True)
class IncidentOutcome:
    """Which case received a new incident, and how."""

    case: Case
    how: Literal["added", "reopened", "new_case"]


def receive_incident(session: Session, engine: CaseEngine, reference: str,
                     incident: Mapping[str, Any], *, actor: str) -> IncidentOutcome:
    """A new incident: to the open case; re-opens a recently closed one; else a new linked case."""
    now = clock.now()
    case = ops.case_by_reference(session, reference)
    if case.status is CaseStatus.OPEN:
        row = ops.add_incident(session, case, incident, at=now, source=IncidentSource.NEW_INCIDENT)
        engine.send_message(session, case.reference, "new_incident", {"incident_id": row.id},
                            actor=actor)
        return IncidentOutcome(case, "added")
    window = int(council_config.get_setting(session, "reopen_window_days", at=now))
    if ops.reopen_or_new(session, case, at=now, window_days=window) == "reopen":
        ops.reopen_case(session, case, at=now, by=actor)
        ops.add_incident(session, case, incident, at=now, source=IncidentSource.NEW_INCIDENT)
        data = _start_data(case, {}, reopened=True, case_officer=case.case_officer,
                           priority=case.priority or 2, repeat_victim=True)
        engine.start(session, CASE_PROCESS, case.reference, data, actor=actor)
        return IncidentOutcome(case, "reopened")
    person, party = ops.reporter_of(session, case)
    report = {
        "channel": str(case.channel),
        "reporter": {"name": person.name, "phone": person.phone, "email": person.email,
                     "address": person.address,
                     "contact_preferences": party.contact_preferences or {}},
        "incident": {**incident, "category": incident.get("category") or str(case.category)},
        "vulnerability": {"repeat_victim": True},
    }
    report["reporter"] = {k: v for k, v in report["reporter"].items() if v}
    new = open_case(session, engine, report, actor=actor, linked_from=case)
    return IncidentOutcome(new, "new_case")


def log_update(session: Session, engine: CaseEngine, reference: str, *, method: str,
               summary: str, actor: str) -> None:
    """An update given outside its task: log it and move the next update's due date."""
    case = ops.case_by_reference(session, reference)
    ops.record_contact(session, case, at=clock.now(), by=actor, method=method,
                       kind=ContactKind.UPDATE, summary=summary)
    engine.send_message(session, case.reference, "update_sent", {}, actor=actor)


def send_event(session: Session, engine: CaseEngine, reference: str, name: str,
               payload: dict[str, Any], *, actor: str) -> None:
    """Deliver a change of circumstances, Case Review application, complaint or development."""
    case = ops.case_by_reference(session, reference)
    engine.send_message(session, case.reference, name, payload, actor=actor)


def reassign_officer(session: Session, engine: CaseEngine, reference: str, officer: str, *,
                     actor: str) -> Case:
    """A team leader's (or admin's) override of the case officer, open tasks included."""
    from cases.people import Role, find_user

    lead = find_user(session, actor)
    if lead is None or lead.role not in (Role.TEAM_LEADER, Role.ADMIN) or not lead.active:
        raise CaseDataInvalid("actor", "only a team leader or an admin may reassign a case")
    case = ops.case_by_reference(session, reference)
    if case.status is not CaseStatus.OPEN:
        raise CaseDataInvalid("reference", "a closed case keeps its officer")
    new = find_user(session, officer)
    if new is None or new.role is not Role.OFFICER or not new.active:
        raise CaseDataInvalid("case_officer", "is not an active officer")
    old = case.case_officer
    ops.assign_officer(session, case, new.name, new.team.name if new.team else None,
                       at=clock.now(), by=actor)
    engine.set_variables(session, reference, {"case_officer": new.name}, actor=actor,
                         reassign=(old, new.name) if old else None)
    return case
