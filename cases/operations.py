"""Operations on the case record for handlers and the API; each validates before it changes.

Input checks live in ``cases.checks``; related cases and repeat victims in ``cases.matching``;
contact, plans and disclosures in ``cases.contact``. Their public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cases.checks import (
    _INCIDENT_KEYS,
    FLAGS,
    Errors,
    _aware,
    _body,
    _check_assessment,
    _choice,
    check_incident,
    check_person,
    check_report,
)
from cases.common import _audit, _must_be_open, _touch, case_by_reference, reporter_of
from cases.config import LOCAL_TZ, ward_for_postcode
from cases.contact import (
    current_plan,
    record_breach,
    record_contact,
    record_disclosure,
    record_plan,
    set_next_update,
    set_stage,
)
from cases.enums import (
    AssessmentKind,
    CaseStatus,
    ClosureReason,
    IncidentSource,
    LinkReason,
    PartyRole,
    Stage,
)
from cases.matching import (
    find_related_open_cases,
    is_repeat_victim,
    link_cases,
    links_of,
    mark_repeat_victim,
)
from cases.people import Role, find_user
from cases.records import (
    Case,
    CaseDataInvalid,
    CaseError,
    CaseParty,
    CaseSequence,
    CaseStatusConflict,
    Incident,
    Person,
    RiskAssessment,
)

__all__ = [
    "FLAGS", "Errors", "add_incident", "add_party", "assign_officer", "case_by_reference",
    "check_incident", "check_person", "check_report", "close_case", "current_plan",
    "find_related_open_cases", "is_repeat_victim", "link_cases", "links_of",
    "mark_repeat_victim", "next_reference", "officer_workload_query", "open_case",
    "open_cases_by_officer", "record_assessment", "record_breach", "record_contact",
    "record_disclosure", "record_plan", "reopen_case", "reopen_or_new", "reporter_of",
    "set_next_update", "set_priority", "set_stage",
]

_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


# --- opening a case and adding to it -----------------------------------------------------

def next_reference(session: Session, received_at: datetime) -> str:
    """Allocate the next reference of the London year of ``received_at`` in one atomic upsert."""
    year = _aware("received_at", received_at).astimezone(LOCAL_TZ).year
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        raise CaseError(f"case references need SQLite or PostgreSQL, not {dialect}")
    upsert = _UPSERTS[dialect](CaseSequence).values(year=year, last=1)
    # Concurrent writers queue on the year's row lock, each then sees the last committed value.
    statement = upsert.on_conflict_do_update(
        index_elements=[CaseSequence.year], set_={"last": CaseSequence.last + 1}
    ).returning(CaseSequence.last)
    number = session.execute(statement).scalar_one()
    return f"ASB-{year}-{number:06d}"


def _ward(session: Session, postcode: str | None, at: datetime) -> str | None:
    return ward_for_postcode(session, postcode, at) if postcode else None


def _incident(case: Case, clean: Mapping[str, Any], ward: str | None, *, at: datetime,
              source: IncidentSource) -> Incident:
    return Incident(case=case, occurred_at=clean["occurred_at"], reported_at=at,
                    description=clean["description"], location=clean["location"],
                    postcode=clean["postcode"], normalised_address=clean["normalised_address"],
                    ward=ward, category=clean["category"] or case.category,
                    hate_strands=clean["hate_strands"], source=source)


def open_case(session: Session, report: Mapping[str, Any], *, received_at: datetime,
              now: datetime, actor: str, linked_from: Case | None = None) -> Case:
    """Validate a report and record it as a new open case at intake; return it flushed."""
    received, created = _aware("received_at", received_at), _aware("now", now)
    clean = check_report(report, received)
    incident, reporter, flags = clean["incident"], clean["reporter"], clean["flags"]
    incident_ward = _ward(session, incident["postcode"], received)
    area = incident_ward or _ward(session, reporter["postcode"], received)
    case = Case(
        reference=next_reference(session, received), status=CaseStatus.OPEN,
        stage=Stage.INTAKE, channel=clean["channel"], received_at=received,
        category=incident["category"], hate_strands=incident["hate_strands"],
        hate=bool(incident["hate_strands"]),
        safeguarding=flags["child_at_risk"] or flags["vulnerable_adult"],
        repeat_victim=flags["repeat_victim"],
        confidential=clean["contact_preferences"]["confidential"], area=area,
        reopened_count=0, linked_from=linked_from.reference if linked_from else None,
        created_at=created, updated_at=created)
    person = Person(**reporter)
    case.parties = [
        CaseParty(person=person, role=PartyRole.REPORTER,
                  contact_preferences=clean["contact_preferences"]),
        CaseParty(person=person, role=PartyRole.VICTIM),
        *(CaseParty(person=Person(**details), role=PartyRole(role))
          for role, details in clean["people"]),
    ]
    _incident(case, incident, incident_ward, at=received, source=IncidentSource.REPORT)
    session.add(case)
    session.flush()
    session.add(RiskAssessment(case_id=case.id, assessed_at=received, assessed_by=actor,
                               kind=AssessmentKind.INITIAL_DECISION, **flags))
    if linked_from is not None:
        link_cases(session, case, linked_from, LinkReason.REOPENED_AS_NEW, at=created)
    _audit(session, case, "opened", created, actor, channel=case.channel.value, area=area)
    session.flush()
    return case


def add_party(session: Session, case: Case, role: PartyRole | str, person: Mapping[str, Any]
              ) -> CaseParty:
    """Add a victim, witness or reported person to a case."""
    errors: Errors = {}
    kind = _choice(role, PartyRole, "role", errors)
    if kind is PartyRole.REPORTER:
        errors["role"] = "a case has one reporter, recorded when it opens"
    clean = check_person(person, "person", errors)
    if errors:
        raise CaseDataInvalid(errors)
    party = CaseParty(case=case, person=Person(**clean), role=kind)
    session.add(party)
    session.flush()
    return party


def add_incident(session: Session, case: Case, payload: Mapping[str, Any], *, at: datetime,
                 source: IncidentSource | str = IncidentSource.NEW_INCIDENT) -> Incident:
    """Validate and attach a new incident (or diary entry) to an open case."""
    moment = _aware("at", at)
    errors: Errors = {}
    kind = _choice(source, IncidentSource, "source", errors)
    given = _body(payload, _INCIDENT_KEYS, errors)
    clean = check_incident(given, "", errors, reported_at=moment, category_required=False)
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    ward = _ward(session, clean["postcode"], moment)
    incident = _incident(case, clean, ward, at=moment, source=kind)
    session.add(incident)
    if clean["hate_strands"]:
        case.hate_strands = sorted(set(case.hate_strands) | set(clean["hate_strands"]))
        case.hate = True
    case.area = case.area or ward
    _touch(case, moment)
    session.flush()
    return incident


# --- triage, assessment and ownership ----------------------------------------------------

def _apply_priority(case: Case, priority: int, due: datetime) -> int | None:
    if case.priority is not None and priority > case.priority:
        raise CaseDataInvalid("priority", f"priority {case.priority} cannot be lowered to "
                                          f"{priority}")
    before = case.priority
    case.priority, case.first_contact_due_at = priority, due
    if case.stage is Stage.INTAKE:
        case.stage = Stage.TRIAGE
    return before


def set_priority(session: Session, case: Case, priority: int, first_contact_due_at: datetime,
                 *, by: str, reason: str, at: datetime | None = None) -> Case:
    """Record the priority and first-contact deadline, refusing to lower the priority."""
    if isinstance(priority, bool) or priority not in (1, 2):
        raise CaseDataInvalid("priority", "must be 1 or 2")
    due = _aware("first_contact_due_at", first_contact_due_at)
    _must_be_open(case)
    before = _apply_priority(case, priority, due)
    if before is None:
        initial = session.scalars(select(RiskAssessment).where(
            RiskAssessment.case_id == case.id,
            RiskAssessment.kind == AssessmentKind.INITIAL_DECISION,
            RiskAssessment.priority_after.is_(None))).first()
        if initial is not None:
            initial.priority_after = priority
    moment = _touch(case, at)
    _audit(session, case, "priority_set", moment, by, priority_before=before,
           priority_after=priority, reason=reason)
    session.flush()
    return case


def record_assessment(session: Session, case: Case, assessment: Mapping[str, Any], *,
                      at: datetime, by: str, kind: AssessmentKind | str = AssessmentKind.OFFICER,
                      priority: int | None = None, first_contact_due_at: datetime | None = None
                      ) -> RiskAssessment:
    """Store a risk assessment; raising it, or a child or vulnerable adult at risk, means P1."""
    moment = _aware("at", at)
    clean, errors = _check_assessment(assessment, kind, priority)
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    at_risk = clean["child_at_risk"] or clean["vulnerable_adult"]
    target = 1 if clean.pop("raise_priority") or at_risk else priority
    before = case.priority
    if target is not None and target != before:
        if first_contact_due_at is None:
            raise CaseDataInvalid("first_contact_due_at", "is needed when the priority changes")
        _apply_priority(case, target, _aware("first_contact_due_at", first_contact_due_at))
    case.safeguarding = case.safeguarding or at_risk
    case.repeat_victim = case.repeat_victim or clean["repeat_victim"]
    row = RiskAssessment(case_id=case.id, assessed_at=moment, assessed_by=by,
                         priority_before=before, priority_after=case.priority,
                         **{**clean, "vulnerability": clean["vulnerability"] or None})
    session.add(row)
    _touch(case, moment)
    if case.priority != before:
        _audit(session, case, "priority_raised", moment, by, priority_before=before,
               priority_after=case.priority, reason="risk assessment")
    session.flush()
    return row


def assign_officer(session: Session, case: Case, officer: str, team: str | None = None, *,
                   at: datetime | None = None, by: str = "system") -> Case:
    """Make ``officer`` (an active council user) the case officer, in ``team`` or theirs."""
    user = find_user(session, officer) if isinstance(officer, str) else None
    if user is None or not user.active or user.role is Role.PARTNER:
        raise CaseDataInvalid("case_officer", f"{officer!r} is not an active council user")
    _must_be_open(case)
    case.case_officer, case.team = user.name, team or user.team.name
    moment = _touch(case, at)
    _audit(session, case, "officer_assigned", moment, by, case_officer=user.name,
           team=case.team)
    session.flush()
    return case


# --- closing and re-opening --------------------------------------------------------------

def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def close_case(session: Session, case: Case, *, at: datetime, reason: ClosureReason | str,
               retention_years: int, by: str = "system") -> Case:
    """Close the case; it is kept until the London closure date plus ``retention_years``."""
    moment = _aware("at", at)
    errors: Errors = {}
    why = _choice(reason, ClosureReason, "closure_reason", errors)
    if isinstance(retention_years, bool) or not isinstance(retention_years, int) \
            or not 1 <= retention_years <= 10:
        errors["retention_years"] = "must be a whole number of years from 1 to 10"
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    case.status, case.stage, case.closed_at, case.closure_reason = (
        CaseStatus.CLOSED, Stage.CLOSURE, moment, why)
    case.retention_until = _add_years(moment.astimezone(LOCAL_TZ).date(), retention_years)
    case.next_update_due_at = None
    _touch(case, moment)
    _audit(session, case, "closed", moment, by, closure_reason=why.value,
           retention_until=case.retention_until.isoformat())
    session.flush()
    return case


def _must_be_closed(case: Case) -> datetime:
    if case.status is not CaseStatus.CLOSED or case.closed_at is None:
        raise CaseStatusConflict(f"case {case.reference} is not closed")
    return case.closed_at


def reopen_case(session: Session, case: Case, *, at: datetime, by: str = "system") -> Case:
    """Re-open a closed case at triage, lifting its retention date."""
    moment = _aware("at", at)
    closed_at = _must_be_closed(case)
    reason = case.closure_reason.value if case.closure_reason else None
    case.status, case.stage = CaseStatus.OPEN, Stage.TRIAGE
    case.closed_at = case.closure_reason = case.retention_until = None
    case.reopened_count += 1
    _touch(case, moment)
    _audit(session, case, "reopened", moment, by, closed_at=closed_at.isoformat(),
           closure_reason=reason)
    session.flush()
    return case


def reopen_or_new(session: Session, closed_case: Case, *, at: datetime, window_days: int
                  ) -> Literal["reopen", "new"]:
    """Decide whether news at ``at`` re-opens the closed case (within the window) or starts anew."""
    moment = _aware("at", at)
    closed_at = _must_be_closed(closed_case)
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 0:
        raise CaseDataInvalid("window_days", "must be a whole number of days, 0 or more")
    return "reopen" if moment - closed_at <= timedelta(days=window_days) else "new"


# --- workload ----------------------------------------------------------------------------

def officer_workload_query() -> Select[tuple[str, int]]:
    """Select each case officer with their number of open cases, by name."""
    return (select(Case.case_officer, func.count(Case.id))
            .where(Case.status == CaseStatus.OPEN, Case.case_officer.is_not(None))
            .group_by(Case.case_officer).order_by(Case.case_officer))


def open_cases_by_officer(session: Session) -> dict[str, int]:
    """Return the number of open cases each case officer holds."""
    return {name: count for name, count in session.execute(officer_workload_query())}
