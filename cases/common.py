"""The case record's small shared helpers: finding a case or its reporter, stamping, auditing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.audit import AuditRecord, record
from cases.enums import CaseStatus, PartyRole
from cases.records import Case, CaseDataInvalid, CaseNotFound, CaseParty, CaseStatusConflict, Person

__all__ = ["case_by_reference", "reporter_of"]


def _touch(case: Case, at: datetime | None) -> datetime:
    moment = at or datetime.now(UTC)
    case.updated_at = moment
    return moment


def _audit(session: Session, case: Case, action: str, at: datetime, actor: str,
           **summary: Any) -> None:
    record(session, AuditRecord(at=at, actor=actor, action=f"case.{action}",
                                object_type="case", object_id=str(case.id),
                                case_reference=case.reference, summary=summary))


def _must_be_open(case: Case) -> None:
    if case.status is not CaseStatus.OPEN:
        raise CaseStatusConflict(f"case {case.reference} is closed")


def case_by_reference(session: Session, ref: str) -> Case:
    """Return the case with reference ``ref`` or raise ``CaseNotFound``."""
    found = session.scalars(select(Case).where(Case.reference == ref)).one_or_none()
    if found is None:
        raise CaseNotFound(ref)
    return found


def reporter_of(session: Session, case: Case) -> tuple[Person, CaseParty]:
    """Return the case's reporter and their party row (with contact preferences)."""
    party = session.scalars(select(CaseParty).where(
        CaseParty.case_id == case.id, CaseParty.role == PartyRole.REPORTER)).first()
    if party is None:
        raise CaseDataInvalid("reporter", f"case {case.reference} has no reporter")
    return party.person, party
