"""Related open cases, links between cases, and spotting repeat victims."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from cases.checks import Errors, _aware, _choice
from cases.common import _touch, reporter_of
from cases.enums import CaseStatus, IncidentSource, LinkReason, PartyRole
from cases.records import Case, CaseDataInvalid, CaseLink, CaseParty, Incident, Person

__all__ = ["find_related_open_cases", "is_repeat_victim", "link_cases", "links_of",
           "mark_repeat_victim"]


def _reported_people(session: Session, case: Case) -> list[tuple[str, str]]:
    query = select(Person.normalised_name, Person.normalised_address).join(CaseParty).where(
        CaseParty.case_id == case.id, CaseParty.role == PartyRole.REPORTED_PERSON,
        Person.normalised_address.is_not(None))
    return [(name, address) for name, address in session.execute(query)]


def find_related_open_cases(session: Session, case: Case) -> list[tuple[Case, LinkReason]]:
    """Return other open cases about the same address, reported person or full postcode."""
    addresses = {i.normalised_address for i in case.incidents if i.normalised_address}
    postcodes = {i.postcode for i in case.incidents if i.postcode and " " in i.postcode}
    people = _reported_people(session, case)
    others = select(Case).where(Case.status == CaseStatus.OPEN, Case.id != case.id)
    checks: list[tuple[LinkReason, Select[tuple[int]]]] = []
    if addresses:
        checks.append((LinkReason.SAME_ADDRESS, select(Incident.case_id).where(
            Incident.normalised_address.in_(addresses))))
    if people:
        checks.append((LinkReason.SAME_REPORTED_PERSON, select(CaseParty.case_id).join(Person)
                       .where(CaseParty.role == PartyRole.REPORTED_PERSON, or_(*(
                           and_(Person.normalised_name == name,
                                Person.normalised_address == address)
                           for name, address in people)))))
    if postcodes:
        checks.append((LinkReason.SAME_POSTCODE, select(Incident.case_id).where(
            Incident.postcode.in_(postcodes))))
    found: dict[int, tuple[Case, LinkReason]] = {}
    for reason, case_ids in checks:
        for other in session.scalars(others.where(Case.id.in_(case_ids))):
            found.setdefault(other.id, (other, reason))
    return sorted(found.values(), key=lambda pair: (pair[0].received_at, pair[0].id))


def _link_query(low: int, high: int) -> Select[tuple[CaseLink]]:
    return select(CaseLink).where(CaseLink.case_id == low, CaseLink.linked_case_id == high)


def link_cases(session: Session, case: Case, other: Case, reason: LinkReason | str, *,
               at: datetime | None = None) -> CaseLink:
    """Link two cases once (a second call returns the existing link unchanged)."""
    errors: Errors = {}
    why = _choice(reason, LinkReason, "reason", errors)
    if case.id == other.id:
        errors["linked_case"] = "a case cannot be linked to itself"
    if errors:
        raise CaseDataInvalid(errors)
    low, high = sorted((case.id, other.id))
    existing = session.scalars(_link_query(low, high)).first()
    if existing is not None:
        return existing
    link = CaseLink(case_id=low, linked_case_id=high, reason=why,
                    created_at=at or datetime.now(UTC))
    try:
        with session.begin_nested():
            session.add(link)
            session.flush()
    except IntegrityError:
        return session.scalars(_link_query(low, high)).one()
    return link


def links_of(session: Session, case: Case) -> list[tuple[Case, LinkReason]]:
    """Return the cases linked to ``case`` with the reason, oldest case first."""
    query = select(Case, CaseLink.reason).join(CaseLink, or_(
        and_(CaseLink.case_id == case.id, CaseLink.linked_case_id == Case.id),
        and_(CaseLink.linked_case_id == case.id, CaseLink.case_id == Case.id),
    )).order_by(Case.received_at, Case.id)
    return [(other, reason) for other, reason in session.execute(query)]


def is_repeat_victim(session: Session, case: Case, rules: Mapping[str, Any], at: datetime
                     ) -> bool:
    """Tell whether the case's reporter or their address reached a repeat-victim rule by ``at``.

    Victimisation follows the victim: reports by the same person, or about or from the
    reporter's own address, count. Other people's reports about the same incident place do
    not (that is the same problem, found by ``find_related_open_cases``).
    """
    moment = _aware("at", at)
    person, _ = reporter_of(session, case)
    addresses = {person.normalised_address} - {None}
    reporter = aliased(Person)
    same = [Incident.case_id == case.id, Incident.normalised_address.in_(addresses),
            reporter.normalised_address.in_(addresses)]
    contact = []
    if person.phone:
        contact.append(reporter.phone == person.phone)
    if person.email:
        contact.append(reporter.email == person.email)
    if contact:
        same.append(and_(reporter.normalised_name == person.normalised_name, or_(*contact)))
    widest = max(rule["days"] for rule in rules.values())
    query = (select(Incident.id, Incident.reported_at)
             .join(CaseParty, and_(CaseParty.case_id == Incident.case_id,
                                   CaseParty.role == PartyRole.REPORTER))
             .join(reporter, CaseParty.person_id == reporter.id)
             .where(Incident.source.in_([IncidentSource.REPORT, IncidentSource.NEW_INCIDENT]),
                    Incident.reported_at <= moment,
                    Incident.reported_at >= moment - timedelta(days=widest), or_(*same))
             .distinct())
    times = [reported for _, reported in session.execute(query)]
    return any(sum(t >= moment - timedelta(days=rule["days"]) for t in times) >= rule["reports"]
               for rule in rules.values())


def mark_repeat_victim(session: Session, case: Case, *, at: datetime | None = None) -> Case:
    """Flag the case's victim as a repeat victim (the flag is never cleared)."""
    case.repeat_victim = True
    _touch(case, at)
    session.flush()
    return case
