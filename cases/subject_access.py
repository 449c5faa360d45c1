"""Subject access: everything held about a person, with every other person redacted.

A member of the public may be recorded on several cases (each report makes a new person row),
so a manager finds the person's records with ``find_people`` and exports the chosen ones
together. For each case the export holds the subject's own details and roles, the case's
facts, its incidents and disclosures; for a reporter or victim also the contact log, diary
entries, their portal submissions and the evidence they supplied; and every letter, e-mail or
text sent to the subject's own address. Everyone else on the case (reporter, victim,
witnesses, reported people) appears only as ``[redacted: <role>]``, in lists and in free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cases.challenge import CaseReview, Complaint
from cases.config import normalise_postcode
from cases.enums import PartyRole
from cases.evidence import EvidenceItem
from cases.evidence_requests import DiaryEntry
from cases.outbox import OutboxMessage
from cases.privacy_redact import Redactee, label_for, redact_text, redactee
from cases.records import (
    Case,
    CaseParty,
    ContactLogEntry,
    Disclosure,
    Incident,
    Person,
    normalise_text,
)
from cases.reporter_access import ReporterSubmission

SEARCH_LIMIT = 50
REPORTER_SIDE = frozenset({PartyRole.REPORTER, PartyRole.VICTIM})
_DIGITS_RE = re.compile(r"\D")


class SubjectAccessError(ValueError):
    """The search or the choice of people was refused; ``field`` names what to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class PersonMatch:
    """One stored person that a search found, with the cases and roles they have."""

    person: Person
    roles: list[tuple[str, str]]  # (case reference, role)


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def find_people(session: Session, query: str) -> list[PersonMatch]:
    """Find people by part of their name, or exactly by e-mail, phone number or postcode."""
    text = (query or "").strip()
    if len(text) < 3:
        raise SubjectAccessError("query", "Enter at least 3 characters of a name, or an "
                                          "e-mail address, phone number or postcode")
    if len(text) > 200:
        raise SubjectAccessError("query", "Enter 200 characters or fewer")
    conditions = [Person.email == text.lower(), Person.email == text]
    if name := normalise_text(text):
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Person.normalised_name.like(f"%{escaped}%", escape="\\"))
    if postcode := normalise_postcode(text):
        conditions.append(Person.postcode == postcode)
    digits = _DIGITS_RE.sub("", text)
    people = list(session.scalars(select(Person).where(or_(*conditions))
                                  .order_by(Person.normalised_name, Person.id)
                                  .limit(SEARCH_LIMIT)))
    if len(digits) >= 6:
        people += [p for p in session.scalars(select(Person).where(Person.phone.is_not(None))
                                              .limit(5000))
                   if _DIGITS_RE.sub("", p.phone or "") == digits and p not in people]
    found = []
    for person in people[:SEARCH_LIMIT]:
        roles = [(ref, label_for(role)) for ref, role in session.execute(
            select(Case.reference, CaseParty.role).join(CaseParty, CaseParty.case_id == Case.id)
            .where(CaseParty.person_id == person.id).order_by(Case.reference, CaseParty.id))]
        found.append(PersonMatch(person, roles))
    return found


def _person(person: Person) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "phone": person.phone, "email": person.email,
            "address": person.address, "postcode": person.postcode,
            "date_of_birth": _when(person.date_of_birth)}


def _others(session: Session, case: Case, ids: set[int]) -> tuple[list[Redactee], list[str]]:
    targets, labels = [], []
    for party in session.scalars(select(CaseParty).where(CaseParty.case_id == case.id)
                                 .order_by(CaseParty.id)):
        if party.person_id in ids:
            continue
        labels.append(label_for(party.role))
        targets.append(redactee(party.person, label_for(party.role)))
    return sorted(targets, key=lambda t: -len(t.name or "")), labels


def _addresses(people: Iterable[Person]) -> set[str]:
    found: set[str] = set()
    for person in people:
        found |= {v.strip().lower() for v in (person.email, person.phone, person.address) if v}
    return found


def _case_export(session: Session, case: Case, subjects: list[Person]) -> dict[str, Any]:
    ids = {p.id for p in subjects}
    roles = sorted({party.role for party in session.scalars(select(CaseParty).where(
        CaseParty.case_id == case.id, CaseParty.person_id.in_(ids)))}, key=str)
    targets, other_labels = _others(session, case, ids)

    def red(text: str | None) -> str | None:
        return redact_text(text, targets)

    out: dict[str, Any] = {
        "reference": case.reference, "your_roles": [label_for(r) for r in roles],
        "status": str(case.status.value), "stage": str(case.stage.value),
        "category": str(case.category.value), "received_at": _when(case.received_at),
        "closed_at": _when(case.closed_at), "case_officer": case.case_officer,
        "closure_reason": case.closure_reason.value if case.closure_reason else None,
        "retention_until": _when(case.retention_until),
        "other_people": [f"[redacted: {label}]" for label in other_labels],
        "incidents": [{"occurred_at": _when(i.occurred_at), "reported_at": _when(i.reported_at),
                       "category": str(i.category.value), "location": red(i.location),
                       "description": red(i.description)}
                      for i in session.scalars(select(Incident).where(Incident.case_id == case.id)
                                               .order_by(Incident.occurred_at, Incident.id))],
        "disclosures": [{"at": _when(d.at), "recipient": red(d.recipient), "what": red(d.what),
                         "legal_basis": str(d.legal_basis.value), "note": red(d.note)}
                        for d in session.scalars(select(Disclosure).where(
                            Disclosure.case_id == case.id).order_by(Disclosure.at))],
    }
    mine = _addresses(subjects)
    out["messages_sent_to_you"] = [
        {"at": _when(m.created_at), "sent_at": _when(m.sent_at), "channel": str(m.channel.value),
         "subject": red(m.subject), "text": red(m.body_text)}
        for m in session.scalars(select(OutboxMessage).where(
            OutboxMessage.case_reference == case.reference).order_by(OutboxMessage.id))
        if m.to_address.strip().lower() in mine]
    if REPORTER_SIDE & set(roles):
        out.update(_reporter_side(session, case, red))
    return out


def _reporter_side(session: Session, case: Case, red: Any) -> dict[str, Any]:
    return {
        "contact_log": [{"at": _when(c.at), "by": c.by, "method": str(c.method.value),
                         "direction": str(c.direction.value), "kind": str(c.kind.value),
                         "summary": red(c.summary)}
                        for c in session.scalars(select(ContactLogEntry).where(
                            ContactLogEntry.case_id == case.id).order_by(ContactLogEntry.at))],
        "diary_entries": [{"occurred_at": _when(d.occurred_at), "entered_by": d.entered_by,
                           "what_happened": red(d.what_happened), "effect": red(d.effect)}
                          for d in session.scalars(select(DiaryEntry).where(
                              DiaryEntry.case_id == case.id).order_by(DiaryEntry.occurred_at))],
        "your_submissions": [{"at": _when(s.at), "kind": s.kind, "text": red(s.text)}
                             for s in session.scalars(select(ReporterSubmission).where(
                                 ReporterSubmission.case_id == case.id)
                                 .order_by(ReporterSubmission.at))],
        "evidence_you_supplied": [{"uploaded_at": _when(e.uploaded_at), "kind": str(e.kind.value),
                                   "file_name": red(e.original_name), "size": e.size,
                                   "description": red(e.description)}
                                  for e in session.scalars(select(EvidenceItem).where(
                                      EvidenceItem.case_id == case.id,
                                      EvidenceItem.uploaded_by == "reporter")
                                      .order_by(EvidenceItem.uploaded_at))],
    }


def _challenges(session: Session, ids: set[int]) -> dict[str, Any]:
    return {
        "complaints": [{"reference": c.reference, "status": str(c.status.value),
                        "received_at": _when(c.received_at)}
                       for c in session.scalars(select(Complaint).where(
                           Complaint.complainant_id.in_(ids)).order_by(Complaint.id))],
        "case_reviews": [{"reference": r.reference, "status": str(r.status.value),
                          "received_at": _when(r.received_at)}
                         for r in session.scalars(select(CaseReview).where(
                             CaseReview.applicant_id.in_(ids)).order_by(CaseReview.id))],
    }


@dataclass(frozen=True)
class EvidenceFile:
    """One file of evidence on a subject's case: theirs to receive, or a third party's."""

    reference: str
    item: EvidenceItem
    description: str | None  # redacted of everyone else on the case
    theirs: bool


def _portal_holder(session: Session, case: Case, ids: set[int]) -> bool:
    """Tell whether the chosen records hold the case's reporters' door (its portal uploads).

    The door belongs to the reporter; a victim holds it only when no one else reported.
    """
    parties = list(session.scalars(select(CaseParty).where(CaseParty.case_id == case.id)))
    if any(p.person_id in ids and p.role == PartyRole.REPORTER for p in parties):
        return True
    victim = any(p.person_id in ids and p.role == PartyRole.VICTIM for p in parties)
    return victim and not any(p.role == PartyRole.REPORTER and p.person_id not in ids
                              for p in parties)


def evidence_files(session: Session, person_ids: Iterable[int]) -> list[EvidenceFile]:
    """Every file of evidence on the chosen records' cases, marked with whether they gave it.

    A file is the subject's when it came through the reporters' door (``uploaded_by`` is
    ``reporter``) of a case they reported; anything else (an officer's upload, another
    reporter's) belongs to a third party and must be withheld.
    """
    ids = set(person_ids)
    cases = session.scalars(select(Case).where(Case.id.in_(
        select(CaseParty.case_id).where(CaseParty.person_id.in_(ids))))
        .order_by(Case.received_at, Case.id))
    found = []
    for case in cases:
        targets, _labels = _others(session, case, ids)
        holder = _portal_holder(session, case, ids)
        for item in session.scalars(select(EvidenceItem).where(EvidenceItem.case_id == case.id)
                                    .order_by(EvidenceItem.uploaded_at, EvidenceItem.id)):
            theirs = holder and item.uploaded_by == "reporter"
            found.append(EvidenceFile(case.reference, item,
                                      redact_text(item.description, targets) if theirs
                                      else None, theirs))
    return found


def subject_access_export(session: Session, person_ids: Iterable[Any], *, at: datetime
                          ) -> dict[str, Any]:
    """Everything held about the chosen person records, third parties redacted."""
    try:
        ids = sorted({int(i) for i in person_ids})
    except (TypeError, ValueError):
        raise SubjectAccessError("people", "Choose the records to export") from None
    subjects = list(session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id)))
    if not subjects or len(subjects) != len(ids):
        raise SubjectAccessError("people", "Choose the records to export")
    chosen = {p.id for p in subjects}
    cases = list(session.scalars(select(Case).where(Case.id.in_(
        select(CaseParty.case_id).where(CaseParty.person_id.in_(chosen))))
        .order_by(Case.received_at, Case.id)))
    return {"generated_at": at.isoformat(), "records": [_person(p) for p in subjects],
            "cases": [_case_export(session, case, subjects) for case in cases],
            **_challenges(session, chosen)}
