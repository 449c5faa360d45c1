"""Anonymising one case's rows in the case record: personal data out, the figures' columns kept.

``SCRUB`` names, table by table, every column that can hold personal data or free text; each is
set to None when it may be empty, else to ``REMOVED`` (``[]``/``{}`` for JSON). Everything a
dashboard figure counts (category, priority, dates, stage, status, outcome, area, ward, hate
strands, flags, agencies, legal tools) is left alone. People are anonymised only when no
other, still identifiable case refers to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String, Table, select, update
from sqlalchemy.orm import Session

import cases.challenge
import cases.evidence
import cases.evidence_requests
import cases.legal
import cases.legal_court
import cases.partner_access
import cases.reporter_access
import cases.support  # noqa: F401  (each import registers its tables)
from cases.base import Base
from cases.outbox import OutboxMessage, OutboxStatus
from cases.records import Case, CaseParty, Person
from cases.retention import CaseDisposal

REMOVED = "[removed]"
_DICT_COLUMNS = frozenset({"details"})

# table: (the column that leads to the case, the parent table it is in, columns to clear).
# A parent of None means the column is the case's id itself.
SCRUB: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "case_incidents": ("case_id", None, ("description", "location", "postcode",
                                         "normalised_address")),
    "case_parties": ("case_id", None, ("contact_preferences",)),
    "risk_assessments": ("case_id", None, ("notes",)),
    "action_plans": ("case_id", None, ("actions",)),
    "contact_log_entries": ("case_id", None, ("summary",)),
    "disclosures": ("case_id", None, ("recipient", "what", "note")),
    "evidence_items": ("case_id", None, ("original_name", "description")),
    "evidence_requests": ("case_id", None, ("reason", "message", "decision_notes")),
    "diary_entries": ("case_id", None, ("what_happened", "effect", "assessment")),
    "case_conferences": ("case_id", None, ("venue", "invited", "attendees", "summary")),
    "legal_actions": ("case_id", None, ("respondent", "details")),
    "referrals": ("case_id", None, ("reason", "answer_note", "external_reference",
                                    "next_step_note")),
    "reporter_submissions": ("case_id", None, ("text", "object_ref")),
    "partner_notes": ("case_id", None, ("body",)),
    "complaints": ("case_id", None, ("contact_preferences", "about", "outcome_sought",
                                     "escalation_reason")),
    "case_reviews": ("case_id", None, ("contact_preferences", "description", "location",
                                       "postcode", "normalised_address", "other_reports",
                                       "decision_reasons", "findings")),
    "retention_holds": ("case_id", None, ("reason", "clear_reason")),
    "legal_steps": ("action_id", "legal_actions", ("summary",)),
    "legal_witnesses": ("action_id", "legal_actions", ("name", "support_offered",
                                                       "special_measures")),
    "conference_actions": ("conference_id", "case_conferences", ("action", "owner_name",
                                                                  "owner_email", "note")),
    "evidence_reviews": ("request_id", "evidence_requests", ("notes",)),
    "complaint_stages": ("complaint_id", "complaints", ("understanding", "extension_reason",
                                                        "response", "remedy")),
    "case_review_recommendations": ("case_review_id", "case_reviews", ("text", "done_note")),
}
# Where a person is referred to from a case, besides the case's parties.
PERSON_LINKS: tuple[tuple[str, str], ...] = (
    ("complaints", "complainant_id"), ("case_reviews", "applicant_id"),
    ("case_reviews", "reported_person_id"))
PERSON_VALUES: dict[str, Any] = {
    "name": REMOVED, "normalised_name": "removed", "phone": None, "email": None,
    "address": None, "postcode": None, "normalised_address": None, "date_of_birth": None}


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def blank(column: Column[Any]) -> Any:
    """The value that replaces ``column``'s personal data."""
    if column.nullable:
        return None
    if isinstance(column.type, JSON):
        return {} if column.name in _DICT_COLUMNS else []
    if isinstance(column.type, String) and column.type.length is not None:
        return REMOVED[: column.type.length]
    return REMOVED


def _rows_of(table_name: str, case_id: int) -> Any:
    """A selectable of the ids of ``table_name``'s rows belonging to the case."""
    link, parent, _columns = SCRUB[table_name]
    table = _table(table_name)
    if parent is None:
        return table.c[link] == case_id
    return table.c[link].in_(select(_table(parent).c.id).where(_rows_of(parent, case_id)))


def person_ids_of(session: Session, case_id: int) -> set[int]:
    """The ids of every person the case refers to (parties, complainants, applicants)."""
    found = set(session.scalars(select(CaseParty.person_id).where(CaseParty.case_id == case_id)))
    for table_name, column in PERSON_LINKS:
        table = _table(table_name)
        found |= {pid for pid in session.scalars(
            select(table.c[column]).where(table.c.case_id == case_id)) if pid is not None}
    return found


def _still_used(session: Session, person_ids: Iterable[int], case_id: int) -> set[int]:
    """The people among ``person_ids`` that another not-yet-anonymised case refers to."""
    ids = list(person_ids)
    done = select(CaseDisposal.case_id)
    used = set(session.scalars(select(CaseParty.person_id).where(
        CaseParty.person_id.in_(ids), CaseParty.case_id != case_id,
        CaseParty.case_id.not_in(done))))
    for table_name, column in PERSON_LINKS:
        table = _table(table_name)
        used |= set(session.scalars(select(table.c[column]).where(
            table.c[column].in_(ids), table.c.case_id != case_id,
            table.c.case_id.not_in(done))))
    return used


def scrub_case(session: Session, case: Case, at: datetime) -> dict[str, int]:
    """Clear the case's personal data from every case-record table; return rows per table."""
    session.flush()
    counts: dict[str, int] = {}
    for table_name, (_link, _parent, columns) in SCRUB.items():
        table = _table(table_name)
        values = {name: blank(table.c[name]) for name in columns}
        result = session.execute(update(table).where(_rows_of(table_name, case.id))
                                 .values(**values).execution_options(synchronize_session=False))
        counts[table_name] = result.rowcount or 0  # type: ignore[attr-defined]
    people = person_ids_of(session, case.id)
    kept = _still_used(session, people, case.id)
    gone = sorted(people - kept)
    if gone:
        result = session.execute(update(Person).where(Person.id.in_(gone))
                                 .values(**PERSON_VALUES)
                                 .execution_options(synchronize_session=False))
    counts["persons"] = len(gone)
    counts["persons_kept_for_other_cases"] = len(kept)
    counts["outbox_messages"] = _scrub_outbox(session, case.reference, at)
    _revoke_access(session, case, at)
    session.expire_all()
    return counts


def _scrub_outbox(session: Session, reference: str, at: datetime) -> int:
    waiting = (OutboxStatus.PENDING, OutboxStatus.HELD)
    session.execute(update(OutboxMessage).where(
        OutboxMessage.case_reference == reference, OutboxMessage.status.in_(waiting))
        .values(status=OutboxStatus.FAILED, next_attempt_at=None)
        .execution_options(synchronize_session=False))
    result = session.execute(update(OutboxMessage).where(
        OutboxMessage.case_reference == reference).values(
        to_address=REMOVED, subject=REMOVED, body_text=REMOVED, body_html=None, pdf=None,
        last_error=None, provider_id=None).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _revoke_access(session: Session, case: Case, at: datetime) -> None:
    access = _table("reporter_access")
    session.execute(update(access).where(access.c.case_id == case.id,
                                         access.c.revoked_at.is_(None))
                    .values(revoked_at=at, revoked_by="retention"))
    links, referrals = _table("partner_links"), _table("referrals")
    session.execute(update(links).where(links.c.referral_id.in_(
        select(referrals.c.id).where(referrals.c.case_id == case.id)))
        .values(expires_at=at))


def stored_files_of(session: Session, case: Case) -> list[str]:
    """The stored names of the case's evidence files, to delete from the file store."""
    items = _table("evidence_items")
    return list(session.scalars(select(items.c.stored_name).where(items.c.case_id == case.id)))
