"""Witnesses in court action: who gave a statement and how each was prepared and supported.

Promise 4 of the service commitment: "If legal action is needed, we will guide you through the
process and prepare you if you are asked to be a witness." One row per witness of a legal
action (cases/legal.py) records the statement and the preparation (support offered, special
measures, a visit to the court), so a manager can see that no witness went to court
unprepared. The reporter, when a witness, is a row with ``is_reporter`` and no name of its
own: their name stays on the case's reporter record.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.audit import AuditRecord, record
from cases.base import Base, Timestamp
from cases.legal import LegalAction
from cases.records import Case, CaseDataInvalid

MAX_WITNESSES = 30
# Special measures the court may allow a vulnerable or intimidated witness (Anti-social
# Behaviour, Crime and Policing Act 2014 s16 for injunction proceedings; CPR Part 3A in the
# county court), as the form offers them.
SPECIAL_MEASURES = ("screens", "video_link", "evidence_in_private", "intermediary",
                    "separate_waiting_area", "supporter_in_court")


class LegalWitness(Base):
    """One witness of a legal action: statement taken, then prepared and supported."""

    __tablename__ = "legal_witnesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("legal_actions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))   # None for the reporter
    is_reporter: Mapped[bool] = mapped_column(default=False)
    statement_taken_on: Mapped[date | None] = mapped_column(Date)
    added_at: Mapped[datetime] = mapped_column(Timestamp())
    added_by: Mapped[str] = mapped_column(String(64))
    support_offered: Mapped[str | None] = mapped_column(Text)
    special_measures: Mapped[list[str]] = mapped_column(JSON, default=list)
    court_familiarisation: Mapped[bool | None] = mapped_column()
    prepared_at: Mapped[datetime | None] = mapped_column(Timestamp())
    prepared_by: Mapped[str | None] = mapped_column(String(64))


def _audit(session: Session, case: Case, action: str, by: str, at: datetime,
           witness: LegalWitness) -> None:
    record(session, AuditRecord(at=at, actor=by, action=action, object_type="legal_witness",
                                object_id=str(witness.id), case_reference=case.reference,
                                summary={"legal_action": witness.action_id,
                                         "is_reporter": witness.is_reporter}))


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def add_witnesses(session: Session, case: Case, action: LegalAction, *, names: list[str],
                  reporter: bool, statements_taken_on: date, at: datetime, by: str
                  ) -> list[LegalWitness]:
    """Record the witnesses whose statements were taken; refuse duplicates and an empty list."""
    cleaned = [" ".join(n.split())[:200] for n in names if n and n.strip()]
    keys = [_key(n) for n in cleaned]
    existing = witnesses_of(session, action)
    known = {_key(w.name) for w in existing if w.name}
    if len(set(keys)) != len(keys) or known & set(keys):
        raise CaseDataInvalid("witnesses", "each witness may be listed only once")
    if reporter and any(w.is_reporter for w in existing):
        reporter = False   # the reporter's statement is already on the file
    if not cleaned and not reporter and not existing:
        raise CaseDataInvalid("witnesses", "name at least one witness whose statement was taken")
    if len(existing) + len(cleaned) + int(reporter) > MAX_WITNESSES:
        raise CaseDataInvalid("witnesses", f"at most {MAX_WITNESSES} witnesses")
    rows = [LegalWitness(action_id=action.id, name=None, is_reporter=True,
                         statement_taken_on=statements_taken_on, added_at=at, added_by=by,
                         special_measures=[])] if reporter else []
    rows += [LegalWitness(action_id=action.id, name=n, is_reporter=False,
                          statement_taken_on=statements_taken_on, added_at=at, added_by=by,
                          special_measures=[]) for n in cleaned]
    session.add_all(rows)
    session.flush()
    for row in rows:
        _audit(session, case, "legal.witness_added", by, at, row)
    return rows


def witnesses_of(session: Session, action: LegalAction) -> list[LegalWitness]:
    """The action's witnesses in the order they were added."""
    return list(session.scalars(select(LegalWitness).where(LegalWitness.action_id == action.id)
                                .order_by(LegalWitness.id)))


def unprepared(session: Session, action: LegalAction) -> list[LegalWitness]:
    """Witnesses not yet prepared for court, the reporter first."""
    rows = [w for w in witnesses_of(session, action) if w.prepared_at is None]
    return sorted(rows, key=lambda w: (not w.is_reporter, w.id))


def describe(witness: LegalWitness) -> str:
    """How the officer's form names a witness: their name, or "the reporter"."""
    return "the reporter" if witness.is_reporter else str(witness.name)


def find_unprepared(session: Session, action: LegalAction, named: str) -> LegalWitness:
    """The unprepared witness the officer named ("the reporter" names the reporter)."""
    waiting = unprepared(session, action)
    wanted = _key(named)
    for witness in waiting:
        if (witness.is_reporter and wanted in ("reporter", "the reporter")) or (
                witness.name and _key(witness.name) == wanted):
            return witness
    choices = "; ".join(describe(w) for w in waiting) or "none"
    raise CaseDataInvalid("witness", f"not a witness still to prepare; those are: {choices}")


def record_preparation(session: Session, case: Case, witness: LegalWitness, *,
                       support_offered: str, special_measures: list[str],
                       court_familiarisation: bool, at: datetime, by: str) -> LegalWitness:
    """Record how a witness was prepared and supported for court."""
    unknown = sorted(set(special_measures) - set(SPECIAL_MEASURES))
    if unknown:
        raise CaseDataInvalid("special_measures", f"unknown special measure {unknown[0]!r}")
    if not support_offered.strip():
        raise CaseDataInvalid("support_offered", "say what support was offered")
    witness.support_offered = support_offered.strip()[:4000]
    witness.special_measures = [m for m in SPECIAL_MEASURES if m in special_measures]
    witness.court_familiarisation = court_familiarisation
    witness.prepared_at, witness.prepared_by = at, by
    session.flush()
    _audit(session, case, "legal.witness_prepared", by, at, witness)
    return witness


__all__ = ["MAX_WITNESSES", "SPECIAL_MEASURES", "LegalWitness", "add_witnesses", "describe",
           "find_unprepared", "record_preparation", "unprepared", "witnesses_of"]
