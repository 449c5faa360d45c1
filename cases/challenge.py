"""ASB Case Review (s104, the "community trigger") and complaints: the records of promise 8.

Neither belongs to one case. Anyone may apply for a Case Review, with or without a case, and
the threshold counts reports about the same problem across cases; a complaint is about the
service. Each has its own reference (``CR-2027-0001``, ``CMP-2027-0001``), which is also the
business key of its process, and an optional link to a case. Applicants and complainants are
``Person`` rows like the people on a case; their contact preferences sit on the record, as the
reporter's sit on their party row. Matching and counting live in ``cases.challenge_counts``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from cases.audit import AuditRecord, record
from cases.base import Base, Timestamp, str_enum
from cases.checks import Errors, _aware, _choice, _text, _time, check_person
from cases.config import LOCAL_TZ, normalise_postcode
from cases.records import (
    Case,
    CaseDataInvalid,
    CaseError,
    Person,
    contact_preference_errors,
    normalise_address,
    postcode_at_end,
)

MAX_TEXT = 10_000


class ApplicantRelationship(enum.StrEnum):
    """Who applies for a Case Review: the victim or someone on their behalf (s104)."""

    VICTIM = "victim"
    ON_BEHALF_OF_VICTIM = "on_behalf_of_victim"      # family, carer, friend
    ELECTED_REPRESENTATIVE = "elected_representative"  # councillor, MP
    BUSINESS_OR_COMMUNITY = "business_or_community"
    OTHER = "other"


class CaseReviewStatus(enum.StrEnum):
    RECEIVED = "received"
    AWAITING_DECISION = "awaiting_decision"          # threshold not met automatically
    REVIEW_TO_BE_HELD = "review_to_be_held"
    THRESHOLD_NOT_MET = "threshold_not_met"          # ended: partners decided no review
    TRACKING = "tracking"                            # outcome sent, recommendations open
    COMPLETED = "completed"


class ComplaintStatus(enum.StrEnum):
    STAGE_ONE = "stage_one"
    AWAITING_ESCALATION = "awaiting_escalation"      # stage 1 answered; stage 2 may follow
    STAGE_TWO = "stage_two"
    CLOSED = "closed"


class ComplaintOutcome(enum.StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    NOT_UPHELD = "not_upheld"




class ChallengeSequence(Base):
    """The last Case Review or complaint number handed out in one year (Europe/London)."""

    __tablename__ = "challenge_sequences"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class CaseReview(Base):
    """One application for an ASB Case Review, from the threshold to the recommendations."""

    __tablename__ = "case_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    relationship_to_victim: Mapped[ApplicantRelationship] = mapped_column(
        str_enum(ApplicantRelationship, "applicant_relationship"))
    contact_preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(8), index=True)
    normalised_address: Mapped[str | None] = mapped_column(String(500), index=True)
    reported_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    # Reports the applicant made to the police or a social landlord: {made_to, occurred_at,
    # reported_at}; they count towards the threshold like reports to the council.
    other_reports: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    status: Mapped[CaseReviewStatus] = mapped_column(
        str_enum(CaseReviewStatus, "case_review_status"), index=True)
    received_at: Mapped[datetime] = mapped_column(Timestamp(), index=True)
    received_by: Mapped[str] = mapped_column(String(64))
    acknowledge_due_at: Mapped[datetime] = mapped_column(Timestamp())
    decision_due_at: Mapped[datetime] = mapped_column(Timestamp())
    outcome_due_at: Mapped[datetime] = mapped_column(Timestamp())
    acknowledged_at: Mapped[datetime | None] = mapped_column(Timestamp())
    qualifying_complaints: Mapped[int | None] = mapped_column(Integer)
    threshold: Mapped[int | None] = mapped_column(SmallInteger)
    counted_incidents: Mapped[list[int]] = mapped_column(JSON, default=list)
    threshold_met: Mapped[bool | None] = mapped_column()
    route: Mapped[str | None] = mapped_column(String(32))       # automatic, partner_decision
    decided_at: Mapped[datetime | None] = mapped_column(Timestamp())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # persistence, harm, ...
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    review_held: Mapped[bool] = mapped_column(default=False)
    panel_met_at: Mapped[datetime | None] = mapped_column(Timestamp())
    agencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    findings: Mapped[str | None] = mapped_column(Text)
    outcome_sent_at: Mapped[datetime | None] = mapped_column(Timestamp())
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp())

    case: Mapped[Case | None] = relationship()
    applicant: Mapped[Person] = relationship(foreign_keys=[applicant_id])
    reported_person: Mapped[Person | None] = relationship(foreign_keys=[reported_person_id])
    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="review", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Recommendation.number")


class Recommendation(Base):
    """A Case Review panel's recommendation: what, who owns it, by when, and when done."""

    __tablename__ = "case_review_recommendations"
    __table_args__ = (UniqueConstraint("case_review_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_review_id: Mapped[int] = mapped_column(
        ForeignKey("case_reviews.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(Timestamp())
    done_at: Mapped[datetime | None] = mapped_column(Timestamp())
    done_note: Mapped[str | None] = mapped_column(Text)
    last_chased_at: Mapped[datetime | None] = mapped_column(Timestamp())
    times_chased: Mapped[int] = mapped_column(Integer, default=0)

    review: Mapped[CaseReview] = relationship(back_populates="recommendations")


class CaseReviewNotice(Base):
    """The reporter of a case was told about the Case Review after a second report (2025)."""

    __tablename__ = "case_review_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    told_at: Mapped[datetime] = mapped_column(Timestamp(), index=True)
    reports: Mapped[int] = mapped_column(Integer)   # reports found in the window


class Complaint(Base):
    """A formal complaint about the service, through stage 1 and stage 2."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    complainant_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    contact_preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    about: Mapped[str] = mapped_column(Text)
    outcome_sought: Mapped[str | None] = mapped_column(Text)
    # About the council as the complainant's landlord: the Housing Ombudsman's remit.
    council_home: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus, "complaint_status"), index=True)
    received_at: Mapped[datetime] = mapped_column(Timestamp(), index=True)
    received_by: Mapped[str] = mapped_column(String(64))
    escalated_at: Mapped[datetime | None] = mapped_column(Timestamp())
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp())
    closed_after_stage: Mapped[int | None] = mapped_column(SmallInteger)

    case: Mapped[Case | None] = relationship()
    complainant: Mapped[Person] = relationship()
    stages: Mapped[list[ComplaintStage]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ComplaintStage.stage")

    @property
    def current(self) -> ComplaintStage | None:
        """The stage now open or last answered."""
        return self.stages[-1] if self.stages else None


class ComplaintStage(Base):
    """One stage of a complaint: its acknowledgement, any extension, and the answer."""

    __tablename__ = "complaint_stages"
    __table_args__ = (UniqueConstraint("complaint_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    stage: Mapped[int] = mapped_column(SmallInteger)
    opened_at: Mapped[datetime] = mapped_column(Timestamp())
    acknowledge_due_at: Mapped[datetime] = mapped_column(Timestamp())
    acknowledged_at: Mapped[datetime | None] = mapped_column(Timestamp())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    understanding: Mapped[str | None] = mapped_column(Text)
    response_due_at: Mapped[datetime | None] = mapped_column(Timestamp())
    extended_days: Mapped[int | None] = mapped_column(SmallInteger)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extended_at: Mapped[datetime | None] = mapped_column(Timestamp())
    responded_at: Mapped[datetime | None] = mapped_column(Timestamp())
    responded_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[ComplaintOutcome | None] = mapped_column(
        str_enum(ComplaintOutcome, "complaint_outcome"))
    response: Mapped[str | None] = mapped_column(Text)
    remedy: Mapped[str | None] = mapped_column(Text)
    escalation_deadline_at: Mapped[datetime | None] = mapped_column(Timestamp())

    complaint: Mapped[Complaint] = relationship(back_populates="stages")


class ChallengeNotFound(CaseError):
    """No Case Review or complaint has this reference."""


# -- references ------------------------------------------------------------------------------

_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
KINDS = ("CR", "CMP")


def next_reference(session: Session, kind: str, at: datetime) -> str:
    """Allocate the next ``CR-YYYY-NNNN`` or ``CMP-YYYY-NNNN`` in one atomic upsert."""
    if kind not in KINDS:
        raise ValueError(f"unknown reference kind {kind!r}")
    year = _aware("at", at).astimezone(LOCAL_TZ).year
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        raise CaseError(f"references need SQLite or PostgreSQL, not {dialect}")
    upsert = _UPSERTS[dialect](ChallengeSequence).values(kind=kind, year=year, last=1)
    statement = upsert.on_conflict_do_update(
        index_elements=[ChallengeSequence.kind, ChallengeSequence.year],
        set_={"last": ChallengeSequence.last + 1}).returning(ChallengeSequence.last)
    number = session.execute(statement).scalar_one()
    return f"{kind}-{year}-{number:04d}"


def review_by_reference(session: Session, reference: str) -> CaseReview:
    found = session.scalars(select(CaseReview).where(CaseReview.reference == reference)).first()
    if found is None:
        raise ChallengeNotFound(f"no Case Review with reference {reference!r}")
    return found


def complaint_by_reference(session: Session, reference: str) -> Complaint:
    found = session.scalars(select(Complaint).where(Complaint.reference == reference)).first()
    if found is None:
        raise ChallengeNotFound(f"no complaint with reference {reference!r}")
    return found


def audit(session: Session, *, at: datetime, actor: str, action: str, reference: str,
          **summary: Any) -> None:
    """One audit row for a Case Review or complaint; personal text never enters it."""
    kind = "case_review" if reference.startswith("CR-") else "complaint"
    record(session, AuditRecord(at=at, actor=actor, action=f"{kind}.{action}",
                                object_type=kind, object_id=reference,
                                case_reference=reference, summary=summary))


# -- checking who applies or complains -------------------------------------------------------

def check_contactable(person: Any, path: str, errors: Errors) -> tuple[dict[str, Any],
                                                                       dict[str, Any]]:
    """Return a person's cleaned fields and contact preferences; they must be reachable."""
    given = person if isinstance(person, Mapping) else {}
    if not isinstance(person, Mapping):
        errors[path] = "is required"
    clean = check_person(given, path, errors)
    if given and not any(clean[k] for k in ("phone", "email", "address")):
        errors.setdefault(f"{path}.phone", "give a phone number, email address or address")
    prefs, pref_errors = contact_preference_errors(given.get("contact_preferences"),
                                                   f"{path}.contact_preferences")
    errors.update(pref_errors)
    return clean, prefs


def _other_reports(value: Any, received: datetime, errors: Errors) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        errors["other_reports"] = "must be a list of at most 50 reports"
        return []
    clean = []
    for i, item in enumerate(value):
        where = f"other_reports.{i}"
        if not isinstance(item, Mapping):
            errors[where] = "must be an object with made_to, occurred_at and reported_at"
            continue
        if item.get("made_to") not in ("police", "social_landlord"):
            errors[f"{where}.made_to"] = "must be one of police, social_landlord"
        occurred = _time(item.get("occurred_at"), f"{where}.occurred_at", errors)
        reported = _time(item.get("reported_at"), f"{where}.reported_at", errors)
        if occurred and reported and not occurred <= reported <= received:
            errors[f"{where}.reported_at"] = "must fall after the behaviour and before now"
        if occurred and reported:
            clean.append({"made_to": str(item["made_to"]), "occurred_at": occurred.isoformat(),
                          "reported_at": reported.isoformat()})
    return clean


def create_case_review(session: Session, application: Mapping[str, Any], *, case: Case | None,
                       received_at: datetime, by: str, due: Mapping[str, datetime]
                       ) -> CaseReview:
    """Record an application (``applicant``, ``relationship``, ``description``, ``location``,
    ``postcode``, ``reported_person``, ``other_reports``) with its deadlines ``due``."""
    received = _aware("received_at", received_at)
    errors: Errors = {}
    applicant, prefs = check_contactable(application.get("applicant"), "applicant", errors)
    relation = _choice(application.get("relationship", "victim"), ApplicantRelationship,
                       "relationship", errors)
    description = _text(application.get("description"), "description", errors, MAX_TEXT)
    location = _text(application.get("location"), "location", errors, 500, required=False)
    given_postcode = application.get("postcode")
    postcode = normalise_postcode(given_postcode) if given_postcode else postcode_at_end(location)
    if given_postcode and postcode is None:
        errors["postcode"] = "is not a UK postcode"
    reported = application.get("reported_person")
    reported_clean = check_person(reported, "reported_person", errors) if isinstance(
        reported, Mapping) else None
    if not (location or postcode or reported_clean or case):
        errors["location"] = "say where the problem is, who causes it, or which case it is"
    others = _other_reports(application.get("other_reports"), received, errors)
    if errors:
        raise CaseDataInvalid(errors)
    reference = next_reference(session, "CR", received)
    review = CaseReview(
        reference=reference, case_id=case.id if case else None, applicant=Person(**applicant),
        relationship_to_victim=relation, contact_preferences=prefs,
        description=description, location=location, postcode=postcode,
        normalised_address=normalise_address(location),
        reported_person=Person(**reported_clean) if reported_clean else None,
        other_reports=others, status=CaseReviewStatus.RECEIVED, received_at=received,
        received_by=by, acknowledge_due_at=due["acknowledge"], decision_due_at=due["decide"],
        outcome_due_at=due["outcome"], counted_incidents=[], agencies=[])
    session.add(review)
    session.flush()
    audit(session, at=received, actor=by, action="applied", reference=reference,
          case=case.reference if case else None, relationship=relation.value)
    return review


def create_complaint(session: Session, complaint: Mapping[str, Any], *, case: Case | None,
                     received_at: datetime, by: str) -> Complaint:
    """Record a complaint: ``complainant``, ``about``, ``outcome_sought``, ``council_home``."""
    received = _aware("received_at", received_at)
    errors: Errors = {}
    person, prefs = check_contactable(complaint.get("complainant"), "complainant", errors)
    about = _text(complaint.get("about"), "about", errors, MAX_TEXT)
    sought = _text(complaint.get("outcome_sought"), "outcome_sought", errors, MAX_TEXT,
                   required=False)
    council_home = complaint.get("council_home", False)
    if not isinstance(council_home, bool):
        errors["council_home"] = "must be true or false"
    if errors:
        raise CaseDataInvalid(errors)
    reference = next_reference(session, "CMP", received)
    row = Complaint(reference=reference, case_id=case.id if case else None,
                    complainant=Person(**person), contact_preferences=prefs, about=about,
                    outcome_sought=sought, council_home=council_home,
                    status=ComplaintStatus.STAGE_ONE, received_at=received, received_by=by)
    session.add(row)
    session.flush()
    audit(session, at=received, actor=by, action="made", reference=reference,
          case=case.reference if case else None)
    return row


__all__ = [
    "ApplicantRelationship", "CaseReview", "CaseReviewNotice", "CaseReviewStatus",
    "ChallengeNotFound", "ChallengeSequence", "Complaint", "ComplaintOutcome",
    "ComplaintStage", "ComplaintStatus", "Recommendation", "audit", "check_contactable",
    "complaint_by_reference", "create_case_review", "create_complaint", "next_reference",
    "review_by_reference",
]
