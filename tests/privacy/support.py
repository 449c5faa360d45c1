"""A case driven through the shipped processes, full of the reporter's personal data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import JSON, LargeBinary, String, Text, select
from sqlalchemy.orm import Session

from cases.contact import record_disclosure
from cases.evidence import EvidenceKind, add_evidence
from cases.evidence_requests import add_diary_entry
from cases.operations import add_party, case_by_reference
from cases.partner_access import PartnerNoteKind, add_note
from cases.reporter_access import SubmissionKind, add_submission
from engine import clock
from migrations.runner import metadatas
from tasks.files import FileStore
from tests.lifecycle_support import Lifecycle, new_life

XMAS_EVE = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
ASSESSMENT = {"harm": "medium", "community_impact": "low", "child_at_risk": False,
              "vulnerable_adult": False, "raise_priority": False,
              "vulnerability": {"personal": False, "situational": True, "incidental": False}}
CONTACT = {"contacted_at": "2026-12-29T11:00:00+00:00", "method": "phone",
           "summary": "Talked through the diary sheets with Rita"}
PLAN = {"actions": ["Send diary sheets to Rita", "Warning letter to Dave Lowther"],
        "update_frequency": "weekly", "agreed_with_reporter": True}
# Everything personal the case holds about its reporter (and the free text they gave).
REPORTER_STRINGS = (
    "Rita Reporter", "07700 900123", "07700900123", "rita@example.org", "12 Mill Lane",
    "Loud music and shouting every night", "Talked through the diary sheets with Rita",
    "Send diary sheets to Rita", "Rita's diary: bass until 3am", "Rita could not sleep",
    "Rita's own words to the portal", "rita-noise.mp3", "Recording Rita made",
    "Rita told the police", "Rita was visited", "Noise stopped after Rita's diary",
)
WITNESS = {"name": "Wendy Witness", "phone": "07700 900555", "email": "wendy@example.org",
           "address": "16 Mill Lane, Chesterfield S40 1AB"}
REPORTED = {"name": "Dave Lowther", "phone": "07700 900777",
            "address": "14 Mill Lane, Chesterfield S40 1AB"}
AFTER_RETENTION = date(2034, 1, 1)
PEOPLE_STRINGS = (*REPORTER_STRINGS, WITNESS["name"], WITNESS["phone"], WITNESS["email"],
                  "16 Mill Lane", REPORTED["name"], REPORTED["phone"], "14 Mill Lane")


def closed_case(session: Session, store: FileStore, life: Lifecycle | None = None
                ) -> tuple[Lifecycle, str]:
    """Report, work and close a case the real way, adding every kind of personal record."""
    life = life or new_life(session)
    case = life.open(XMAS_EVE)
    ref = case.reference
    add_party(session, case, "witness", WITNESS)
    add_party(session, case, "reported_person", REPORTED)
    life.complete(ref, "assess_risk", ASSESSMENT)
    life.complete(ref, "first_contact", CONTACT)
    at = datetime(2026, 12, 29, 12, 0, tzinfo=UTC)
    clock.set_now(at)
    add_diary_entry(session, case, occurred_at="2026-12-28T23:00:00+00:00",
                    what_happened="Rita's diary: bass until 3am", effect="Rita could not sleep",
                    by="reporter", at=at)
    add_submission(session, case, SubmissionKind.INCIDENT, at=at,
                   text="Rita's own words to the portal")
    stored = store.save(b"ID3fake mp3 of the noise")
    add_evidence(session, case, kind=EvidenceKind.AUDIO, original_name="rita-noise.mp3",
                 stored_name=stored.name, content_type="audio/mpeg", size=stored.size,
                 sha256=stored.sha256, actor="olivia", at=at,
                 description="Recording Rita made")
    record_disclosure(session, case, at=at, by="olivia", recipient="Derbyshire Police",
                      what="Rita told the police about Dave Lowther",
                      legal_basis="crime_and_disorder_act_s115")
    add_note(session, case, PartnerNoteKind.PROGRESS, "Rita was visited", at=at, by="paul",
             agency_code="police")
    life.complete(ref, "agree_action_plan", PLAN)
    life.complete(ref, "work_case", {"outcome": "Noise stopped after Rita's diary"})
    life.complete(ref, "close_case", {"closure_reason": "resolved", "reporter_told": True,
                                      "satisfaction_asked": True, "summary": "Resolved"})
    assert str(case_by_reference(session, ref).status) == "closed"
    return life, ref


# The audit trail is append-only, so disposal cannot reach it: it must never hold personal
# data in the first place. The scan reads it too (task completions audit field names only).
APPEND_ONLY: tuple[str, ...] = ()


def text_everywhere(session: Session) -> list[tuple[str, str, str]]:
    """Every text, JSON and binary value in every table but the audit, as (table, column, text)."""
    found = []
    for metadata in metadatas():
        for table in metadata.sorted_tables:
            if table.name in APPEND_ONLY:
                continue
            columns = [c for c in table.columns
                       if isinstance(c.type, String | Text | JSON | LargeBinary)]
            if not columns:
                continue
            for row in session.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        text = value.decode("latin-1")
                    elif isinstance(value, str):
                        text = value
                    else:
                        text = json.dumps(value)
                    found.append((table.name, column.name, text))
    return found


def where_found(session: Session, needles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The (table, column, needle) of every known string still in the database."""
    hits: list[tuple[str, str, str]] = []
    for table, column, text in text_everywhere(session):
        lowered = text.lower()
        hits += [(table, column, n) for n in needles if n.lower() in lowered]
    return hits

