"""Evidence asked of the reporter, their reviews, and the reporter's diary entries.

Promise 3 of the service commitment: "We will also explain any evidence we may ask you to
provide, and why." An ``EvidenceRequest`` keeps what was asked for, the reason the reporter
was given, the date asked by and how the chase went (reminders, lapse, withdrawal). Files
come in as ``cases.evidence.EvidenceItem`` rows; each item received after a request is
reviewed once, under one request (``EvidenceReview``), so the case file can show what each
file was worth. The reporter's responsibilities (DOMAIN.md row R) include keeping a diary:
``DiaryEntry`` rows come from the reporter (a message to the running case) or from an officer
typing up a paper diary sheet.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.audit import AuditRecord, record
from cases.base import Base, Timestamp, str_enum
from cases.checks import Errors, _aware, _text, _time
from cases.common import _must_be_open
from cases.evidence import EvidenceItem, EvidenceKind
from cases.records import Case, CaseDataInvalid

MAX_REASON = 2000
MAX_NOTES = 2000
MAX_DIARY_TEXT = 4000
# A diary entry may be dated a little ahead of the server's clock (a phone's clock drifts).
CLOCK_SLACK = timedelta(minutes=10)


class RequestStatus(enum.StrEnum):
    """Where an evidence request stands."""

    OPEN = "open"            # asked; waiting for files or for the review
    RECEIVED = "received"    # files came and the officer needs nothing more
    WITHDRAWN = "withdrawn"  # no longer needed (the case closed, or the officer said so)
    LAPSED = "lapsed"        # nothing came after the reminders


class LapseDecision(enum.StrEnum):
    """What the officer decided when a request lapsed."""

    CARRY_ON = "carry_on"          # carry on with the case without this evidence
    ASK_AGAIN = "ask_again"        # ask the reporter again (a new request)
    REVIEW_CASE = "review_case"    # the case may not go on without it: review the case




class EvidenceRequest(Base):
    """Evidence asked of the reporter on a case: what, why, by when, and how it went."""

    __tablename__ = "evidence_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kinds: Mapped[list[str]] = mapped_column(JSON)            # EvidenceKind values
    reason: Mapped[str] = mapped_column(Text)                 # as the reporter was told
    message: Mapped[str | None] = mapped_column(Text)         # anything else they were told
    due_at: Mapped[datetime] = mapped_column(Timestamp())
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(Timestamp())
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus, "evidence_request_status"))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None] = mapped_column(Timestamp())
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp())
    decision: Mapped[LapseDecision | None] = mapped_column(
        str_enum(LapseDecision, "evidence_lapse_decision"))
    decision_notes: Mapped[str | None] = mapped_column(Text)


class EvidenceReview(Base):
    """The officer's review of one file of evidence, under the request it answered."""

    __tablename__ = "evidence_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_requests.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="CASCADE"), unique=True)
    useful: Mapped[bool] = mapped_column()
    more_needed: Mapped[bool] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(Timestamp())


class DiaryEntry(Base):
    """One diary entry: an incident as the reporter noted it at the time, and its effect."""

    __tablename__ = "diary_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp())
    what_happened: Mapped[str] = mapped_column(Text)
    effect: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(64))       # "reporter" or an officer
    received_at: Mapped[datetime] = mapped_column(Timestamp())
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(Timestamp())
    assessment: Mapped[str | None] = mapped_column(Text)
    action_needed: Mapped[bool | None] = mapped_column()


def _audit(session: Session, case: Case, action: str, by: str, at: datetime, object_type: str,
           object_id: int, **summary: Any) -> None:
    record(session, AuditRecord(at=at, actor=by, action=action, object_type=object_type,
                                object_id=str(object_id), case_reference=case.reference,
                                summary=summary))


# --- evidence requests -------------------------------------------------------------------

def _kinds(value: Any, errors: Errors) -> list[str]:
    if not isinstance(value, (list, tuple)) or not value:
        errors["kinds"] = "ask for at least one kind of evidence"
        return []
    chosen: list[str] = []
    for kind in value:
        try:
            name = EvidenceKind(kind).value
        except ValueError:
            errors["kinds"] = f"must be among {', '.join(k.value for k in EvidenceKind)}"
            return []
        if name not in chosen:
            chosen.append(name)
    return chosen


def open_request(session: Session, case: Case, *, kinds: list[str], reason: str,
                 due_at: datetime, by: str, at: datetime, message: str | None = None
                 ) -> EvidenceRequest:
    """Record that the reporter was asked for ``kinds`` of evidence, why, and by when."""
    errors: Errors = {}
    chosen = _kinds(kinds, errors)
    why = _text(reason, "reason", errors, MAX_REASON)
    extra = _text(message, "message", errors, MAX_REASON, required=False)
    moment, due = _aware("at", at), _aware("due_at", due_at)
    if due <= moment:
        errors["due_at"] = "must be after the request"
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    row = EvidenceRequest(case_id=case.id, kinds=chosen, reason=why, message=extra, due_at=due,
                          requested_by=by, requested_at=moment, status=RequestStatus.OPEN,
                          reminders_sent=0)
    session.add(row)
    session.flush()
    _audit(session, case, "evidence_request.opened", by, moment, "evidence_request", row.id,
           kinds=chosen, due_at=due.isoformat())
    return row


def _must_be_open_request(request: EvidenceRequest) -> None:
    if request.status is not RequestStatus.OPEN:
        raise CaseDataInvalid("evidence_request", f"the request is {request.status.value}")


def record_reminder(session: Session, case: Case, request: EvidenceRequest, *, at: datetime,
                    by: str = "system") -> int:
    """Count one reminder sent to the reporter; return how many have gone."""
    _must_be_open_request(request)
    request.reminders_sent += 1
    request.last_reminder_at = _aware("at", at)
    _audit(session, case, "evidence_request.reminded", by, request.last_reminder_at,
           "evidence_request", request.id, reminders_sent=request.reminders_sent)
    session.flush()
    return request.reminders_sent


def close_request(session: Session, case: Case, request: EvidenceRequest,
                  status: RequestStatus | str, *, at: datetime, by: str) -> EvidenceRequest:
    """End an open request as received, withdrawn or lapsed."""
    _must_be_open_request(request)
    ending = RequestStatus(status)
    if ending is RequestStatus.OPEN:
        raise CaseDataInvalid("status", "a request ends as received, withdrawn or lapsed")
    request.status, request.closed_at = ending, _aware("at", at)
    _audit(session, case, f"evidence_request.{ending.value}", by, request.closed_at,
           "evidence_request", request.id)
    session.flush()
    return request


def record_decision(session: Session, case: Case, request: EvidenceRequest,
                    decision: LapseDecision | str, *, notes: str | None, at: datetime,
                    by: str) -> EvidenceRequest:
    """Record what the officer decided about a lapsed request."""
    if request.status is not RequestStatus.LAPSED:
        raise CaseDataInvalid("evidence_request", "only a lapsed request takes a decision")
    errors: Errors = {}
    chosen = None
    try:
        chosen = LapseDecision(decision)
    except ValueError:
        errors["next_step"] = f"must be one of {', '.join(d.value for d in LapseDecision)}"
    clean_notes = _text(notes, "notes", errors, MAX_NOTES, required=False)
    if errors or chosen is None:
        raise CaseDataInvalid(errors)
    request.decision, request.decision_notes = chosen, clean_notes
    _audit(session, case, "evidence_request.decided", by, _aware("at", at), "evidence_request",
           request.id, decision=chosen.value)
    session.flush()
    return request


def unreviewed_items(session: Session, case: Case, request: EvidenceRequest
                     ) -> list[EvidenceItem]:
    """Files added to the case since the request that no review has covered yet."""
    reviewed = select(EvidenceReview.item_id)
    return list(session.scalars(select(EvidenceItem).where(
        EvidenceItem.case_id == case.id, EvidenceItem.uploaded_at >= request.requested_at,
        EvidenceItem.id.not_in(reviewed)).order_by(EvidenceItem.uploaded_at, EvidenceItem.id)))


def review_items(session: Session, case: Case, request: EvidenceRequest, *, useful: bool,
                 more_needed: bool, notes: str | None, by: str, at: datetime
                 ) -> list[EvidenceReview]:
    """Record the officer's review of every file not yet reviewed; end the request when the
    officer needs nothing more."""
    _must_be_open_request(request)
    errors: Errors = {}
    clean_notes = _text(notes, "notes", errors, MAX_NOTES, required=False)
    if errors:
        raise CaseDataInvalid(errors)
    moment = _aware("at", at)
    rows = [EvidenceReview(request_id=request.id, item_id=item.id, useful=bool(useful),
                           more_needed=bool(more_needed), notes=clean_notes, reviewed_by=by,
                           reviewed_at=moment)
            for item in unreviewed_items(session, case, request)]
    session.add_all(rows)
    session.flush()
    _audit(session, case, "evidence_request.reviewed", by, moment, "evidence_request",
           request.id, items=[r.item_id for r in rows], useful=bool(useful),
           more_needed=bool(more_needed))
    if not more_needed:
        close_request(session, case, request, RequestStatus.RECEIVED, at=moment, by=by)
    return rows


def requests_of(session: Session, case: Case, *, open_only: bool = False
                ) -> list[EvidenceRequest]:
    """The case's evidence requests, oldest first."""
    stmt = select(EvidenceRequest).where(EvidenceRequest.case_id == case.id)
    if open_only:
        stmt = stmt.where(EvidenceRequest.status == RequestStatus.OPEN)
    return list(session.scalars(stmt.order_by(EvidenceRequest.requested_at,
                                              EvidenceRequest.id)))


def reviews_of(session: Session, request: EvidenceRequest) -> list[EvidenceReview]:
    """The reviews under a request, in the order they were made."""
    return list(session.scalars(select(EvidenceReview).where(
        EvidenceReview.request_id == request.id).order_by(EvidenceReview.id)))


# --- diary entries -----------------------------------------------------------------------

DIARY_FIELDS = ("occurred_at", "what_happened", "effect")


def check_diary_entry(payload: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """Validate a diary entry as the reporter or an officer sends it; every problem by field."""
    errors: Errors = {}
    if not isinstance(payload, Mapping):
        raise CaseDataInvalid("diary_entry", "must be an object")
    for name in sorted(set(payload) - set(DIARY_FIELDS), key=str):
        errors[str(name)] = "is not a known field"
    occurred = _time(payload.get("occurred_at"), "occurred_at", errors)
    if occurred is not None and occurred > _aware("now", now) + CLOCK_SLACK:
        errors["occurred_at"] = "must not be in the future"
    clean = {
        "occurred_at": occurred,
        "what_happened": _text(payload.get("what_happened"), "what_happened", errors,
                               MAX_DIARY_TEXT),
        "effect": _text(payload.get("effect"), "effect", errors, MAX_NOTES, required=False),
    }
    if errors:
        raise CaseDataInvalid(errors)
    return clean


def add_diary_entry(session: Session, case: Case, *, occurred_at: datetime | str,
                    what_happened: str, effect: str | None, by: str, at: datetime
                    ) -> DiaryEntry:
    """Add a diary entry to an open case; ``by`` is "reporter" or the officer typing it up."""
    clean = check_diary_entry({"occurred_at": occurred_at, "what_happened": what_happened,
                               "effect": effect}, now=at)
    _must_be_open(case)
    if clean["occurred_at"] < case.received_at - timedelta(days=366):
        raise CaseDataInvalid("occurred_at", "must be within a year before the report")
    moment = _aware("at", at)
    entry = DiaryEntry(case_id=case.id, occurred_at=clean["occurred_at"],
                       what_happened=clean["what_happened"], effect=clean["effect"],
                       entered_by=by, received_at=moment)
    session.add(entry)
    session.flush()
    _audit(session, case, "diary.received", by, moment, "diary_entry", entry.id,
           occurred_at=entry.occurred_at.isoformat(), entered_by=by)
    return entry


def review_diary_entry(session: Session, case: Case, entry: DiaryEntry, *, assessment: str,
                       action_needed: bool, by: str, at: datetime) -> DiaryEntry:
    """Record the officer's review of a diary entry."""
    errors: Errors = {}
    text = _text(assessment, "assessment", errors, MAX_NOTES)
    if entry.case_id != case.id:
        errors["diary_entry"] = "belongs to another case"
    if errors:
        raise CaseDataInvalid(errors)
    entry.assessment, entry.action_needed = text, bool(action_needed)
    entry.reviewed_by, entry.reviewed_at = by, _aware("at", at)
    _audit(session, case, "diary.reviewed", by, entry.reviewed_at, "diary_entry", entry.id,
           action_needed=bool(action_needed))
    session.flush()
    return entry


def diary_of(session: Session, case: Case) -> list[DiaryEntry]:
    """The case's diary, in the order things happened."""
    return list(session.scalars(select(DiaryEntry).where(DiaryEntry.case_id == case.id)
                                .order_by(DiaryEntry.occurred_at, DiaryEntry.id)))


__all__ = ["DiaryEntry", "EvidenceRequest", "EvidenceReview", "LapseDecision", "RequestStatus",
           "add_diary_entry", "check_diary_entry", "close_request", "diary_of", "open_request",
           "record_decision", "record_reminder", "requests_of", "review_diary_entry",
           "review_items", "reviews_of", "unreviewed_items"]
