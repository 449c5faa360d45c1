"""Retention of closed cases: the review list, legal holds, and the record of each disposal.

A closed case is kept until ``Case.retention_until`` (closure date plus the ``retention_years``
setting). After that it appears on the review list; a legal hold (set and cleared with a
reason, both audited) keeps it from disposal. Disposal anonymises the case (see
``cases.privacy_scrub`` and ``tasks.retention``) and is recorded once in ``case_disposals``.
Audit rows carry only ids, dates and counts: a hold's reason stays in ``retention_holds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Select, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.audit import AuditRecord, record
from cases.base import Base, Timestamp
from cases.enums import CaseStatus
from cases.records import Case

REASON_LIMIT = 1000


class RetentionError(Exception):
    """A hold or disposal was refused; ``field`` names what to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class RetentionHold(Base):
    """A legal hold on a case: while ``cleared_at`` is empty the case is never disposed of."""

    __tablename__ = "retention_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(Timestamp())
    cleared_by: Mapped[str | None] = mapped_column(String(64))
    cleared_at: Mapped[datetime | None] = mapped_column(Timestamp())
    clear_reason: Mapped[str | None] = mapped_column(Text)


class CaseDisposal(Base):
    """The one-off record that a case's personal data was removed (its figures stay)."""

    __tablename__ = "case_disposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    disposed_at: Mapped[datetime] = mapped_column(Timestamp())
    disposed_by: Mapped[str] = mapped_column(String(64))
    retention_until: Mapped[date | None] = mapped_column()


@dataclass(frozen=True)
class ReviewRow:
    """One closed case on the review list."""

    case: Case
    hold: RetentionHold | None
    disposed: CaseDisposal | None

    @property
    def due(self) -> bool:
        """Tell whether the case may be disposed of now (past its date, no hold, not done)."""
        return self.hold is None and self.disposed is None


def _reason(value: object, field: str = "reason") -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text:
        raise RetentionError(field, "Give the reason")
    if len(text) > REASON_LIMIT:
        raise RetentionError(field, f"The reason must be {REASON_LIMIT} characters or fewer")
    return text


def _audit(session: Session, case: Case, action: str, at: datetime, by: str,
           **summary: object) -> None:
    record(session, AuditRecord(at=at, actor=by, action=f"retention.{action}",
                                object_type="case", object_id=str(case.id),
                                case_reference=case.reference, summary=dict(summary)))


def active_hold(session: Session, case: Case) -> RetentionHold | None:
    """Return the case's legal hold in force, or None."""
    return session.scalars(select(RetentionHold).where(
        RetentionHold.case_id == case.id, RetentionHold.cleared_at.is_(None))
        .order_by(RetentionHold.id.desc())).first()


def disposal_of(session: Session, case: Case) -> CaseDisposal | None:
    """Return the record of the case's disposal, or None if it still holds personal data."""
    return session.scalars(select(CaseDisposal).where(CaseDisposal.case_id == case.id)).first()


def holds_of(session: Session, case: Case) -> list[RetentionHold]:
    """Every legal hold the case has had, newest first."""
    return list(session.scalars(select(RetentionHold).where(RetentionHold.case_id == case.id)
                                .order_by(RetentionHold.id.desc())))


def set_hold(session: Session, case: Case, reason: object, *, by: str, at: datetime
             ) -> RetentionHold:
    """Put a legal hold on the case (one at a time); audited without the reason's words."""
    text = _reason(reason)
    if disposal_of(session, case) is not None:
        raise RetentionError("reason", f"Case {case.reference} has already been anonymised")
    if active_hold(session, case) is not None:
        raise RetentionError("reason", f"Case {case.reference} is already on legal hold")
    hold = RetentionHold(case_id=case.id, reason=text, set_by=by, set_at=at)
    session.add(hold)
    session.flush()
    _audit(session, case, "hold_set", at, by, hold_id=hold.id)
    return hold


def clear_hold(session: Session, case: Case, reason: object, *, by: str, at: datetime
               ) -> RetentionHold:
    """Lift the case's legal hold, giving the reason; audited."""
    text = _reason(reason)
    hold = active_hold(session, case)
    if hold is None:
        raise RetentionError("reason", f"Case {case.reference} is not on legal hold")
    hold.cleared_by, hold.cleared_at, hold.clear_reason = by, at, text
    session.flush()
    _audit(session, case, "hold_cleared", at, by, hold_id=hold.id)
    return hold


def past_retention(today: date) -> Select[Any]:
    """Select closed cases whose retention date has passed by ``today``, oldest date first."""
    return (select(Case).where(Case.status == CaseStatus.CLOSED,
                               Case.retention_until.is_not(None),
                               Case.retention_until < today)
            .order_by(Case.retention_until, Case.id))


def review_list(session: Session, today: date, *, include_disposed: bool = False
                ) -> list[ReviewRow]:
    """The closed cases past their retention date, each with its hold and disposal."""
    rows = []
    cases: list[Case] = list(session.scalars(past_retention(today)))
    for case in cases:
        disposed = disposal_of(session, case)
        if disposed is not None and not include_disposed:
            continue
        rows.append(ReviewRow(case, active_hold(session, case), disposed))
    return rows


def check_disposable(session: Session, case: Case, today: date) -> None:
    """Raise ``RetentionError`` unless the case may be anonymised now."""
    if case.status is not CaseStatus.CLOSED or case.retention_until is None:
        raise RetentionError("case", f"Case {case.reference} is not closed")
    if case.retention_until >= today:
        raise RetentionError("case", f"Case {case.reference} is kept until "
                                     f"{case.retention_until:%d %B %Y}")
    if active_hold(session, case) is not None:
        raise RetentionError("case", f"Case {case.reference} is on legal hold")
    if disposal_of(session, case) is not None:
        raise RetentionError("case", f"Case {case.reference} has already been anonymised")


def record_disposal(session: Session, case: Case, *, by: str, at: datetime,
                    counts: dict[str, int]) -> CaseDisposal:
    """Note that the case was anonymised, audited with the number of rows changed per table."""
    row = CaseDisposal(case_id=case.id, disposed_at=at, disposed_by=by,
                       retention_until=case.retention_until)
    session.add(row)
    session.flush()
    _audit(session, case, "disposed", at, by, rows=dict(counts))
    return row
