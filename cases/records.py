"""The relational case record: cases, the people in them, incidents, assessments and logs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.base import Base, Timestamp, str_enum
from cases.config import normalise_postcode
from cases.enums import (
    AssessmentKind,
    CaseStatus,
    Category,
    Channel,
    ClosureReason,
    ContactKind,
    ContactMethod,
    Direction,
    HateStrand,
    IncidentSource,
    LegalBasis,
    Level,
    LinkReason,
    PartyRole,
    Stage,
)

__all__ = [
    "REFERENCE_RE", "ActionPlan", "AssessmentKind", "Case", "CaseDataInvalid", "CaseError",
    "CaseLink", "CaseNotFound", "CaseParty", "CaseSequence", "CaseStatus", "CaseStatusConflict",
    "Category", "Channel", "ClosureReason", "ContactKind", "ContactLogEntry", "ContactMethod",
    "Direction", "Disclosure", "HateStrand", "Incident", "IncidentSource", "LegalBasis", "Level",
    "LinkReason", "PartyRole", "Person", "RiskAssessment", "Stage", "contact_preference_errors",
    "normalise_address", "normalise_text", "postcode_at_end", "validate_contact_preferences",
]

REFERENCE_RE = re.compile(r"ASB-(\d{4})-(\d{6})")
_HHMM_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_POSTCODE_AT_END_RE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\W*$", re.I)
_NOT_WORD_RE = re.compile(r"[\W_]+")


class CaseError(Exception):
    """Base of the case record's errors."""


class CaseDataInvalid(CaseError):
    """Data for the case record was refused; ``errors`` maps each dotted field path to why."""

    def __init__(self, field: str | Mapping[str, str], message: str | None = None) -> None:
        errors = {field: message or "is invalid"} if isinstance(field, str) else dict(field)
        self.errors: dict[str, str] = errors
        self.field, self.message = next(iter(errors.items()))
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class CaseNotFound(CaseError):
    """No case has this reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no case with reference {reference!r}")
        self.reference = reference


class CaseStatusConflict(CaseError):
    """The case's status forbids the operation (closed when it must be open, or the reverse)."""




def _utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_text(value: str | None) -> str | None:
    """Lower-case ``value`` and collapse punctuation and whitespace to single spaces."""
    if value is None:
        return None
    return " ".join(_NOT_WORD_RE.sub(" ", value.lower()).split()) or None


def postcode_at_end(text: str | None) -> str | None:
    """Return the normalised full postcode that ends ``text``, else None."""
    found = _POSTCODE_AT_END_RE.search(text or "")
    return normalise_postcode(found.group(1) + found.group(2)) if found else None


def normalise_address(text: str | None) -> str | None:
    """Return ``text`` lower-cased with punctuation collapsed and any final postcode removed."""
    if text is None:
        return None
    found = _POSTCODE_AT_END_RE.search(text)
    return normalise_text(text[: found.start()] if found else text)


_PREF_CHANNELS = ("email", "sms", "phone", "letter")
_SAFE_DAYS = ("mon-fri", "sat-sun", "any")
_PREF_KEYS = ("channels", "unsafe_channels", "safe_times", "no_voicemail", "confidential")


def _channel_list(value: Any, path: str, errors: dict[str, str]) -> list[str]:
    if not isinstance(value, list):
        errors[path] = "must be a list of channels"
        return []
    for i, item in enumerate(value):
        if item not in _PREF_CHANNELS:
            errors[f"{path}.{i}"] = f"must be one of {', '.join(_PREF_CHANNELS)}"
        elif value.index(item) != i:
            errors[f"{path}.{i}"] = "appears twice"
    return list(value)


def _safe_times(value: Any, path: str, errors: dict[str, str]) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > 14:
        errors[path] = "must be a list of at most 14 time windows"
        return []
    windows = []
    for i, item in enumerate(value):
        where = f"{path}.{i}"
        if not isinstance(item, Mapping):
            errors[where] = "must be an object with days, from and to"
            continue
        for key in set(item) - {"days", "from", "to"}:
            errors[f"{where}.{key}"] = "is not a known field"
        if item.get("days", "any") not in _SAFE_DAYS:
            errors[f"{where}.days"] = f"must be one of {', '.join(_SAFE_DAYS)}"
        for key in ("from", "to"):
            if not isinstance(item.get(key), str) or not _HHMM_RE.fullmatch(item[key]):
                errors[f"{where}.{key}"] = "must be a time as HH:MM (24-hour)"
        if f"{where}.from" not in errors and f"{where}.to" not in errors \
                and item["from"] >= item["to"]:
            errors[f"{where}.to"] = "must be later than from"
        windows.append({"days": item.get("days", "any"), "from": item.get("from"),
                        "to": item.get("to")})
    return windows


def contact_preference_errors(value: Any, path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Return contact preferences normalised, and every problem found keyed by dotted path."""
    errors: dict[str, str] = {}
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        return {}, {path: "must be an object"}
    for key in sorted(set(value) - set(_PREF_KEYS), key=str):
        errors[f"{path}.{key}"] = "is not a known field"
    clean: dict[str, Any] = {
        "channels": _channel_list(value.get("channels", []), f"{path}.channels", errors),
        "unsafe_channels": _channel_list(value.get("unsafe_channels", []),
                                         f"{path}.unsafe_channels", errors),
        "safe_times": _safe_times(value.get("safe_times", []), f"{path}.safe_times", errors),
    }
    for i, channel in enumerate(clean["channels"]):
        if channel in clean["unsafe_channels"]:
            errors.setdefault(f"{path}.channels.{i}", "is also listed as unsafe")
    for key, default in (("no_voicemail", False), ("confidential", True)):
        clean[key] = value.get(key, default)
        if not isinstance(clean[key], bool):
            errors[f"{path}.{key}"] = "must be true or false"
    return clean, errors


def validate_contact_preferences(
    value: Any, path: str = "reporter.contact_preferences"
) -> dict[str, Any]:
    """Return the reporter's contact preferences normalised, or raise ``CaseDataInvalid``."""
    clean, errors = contact_preference_errors(value, path)
    if errors:
        raise CaseDataInvalid(errors)
    return clean


class CaseSequence(Base):
    """The last reference number handed out in one year (Europe/London)."""

    __tablename__ = "case_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Case(Base):
    """One ASB case: its state, deadlines, flags and ownership."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("priority IN (1, 2)", name="priority"),
        Index("ix_cases_status_priority", "status", "priority"),
        Index("ix_cases_officer_status", "case_officer", "status"),
        Index("ix_cases_area_status", "area", "status"),
        # The manager's dashboard (cases/figures*.py): covering indexes, so each figure reads
        # only the entries of the cases it counts (migration 0008d).
        Index("ix_cases_open_figures", "status", "priority", "stage", "category", "area",
              "team", "repeat_victim", "safeguarding"),
        Index("ix_cases_open_officers", "status", "case_officer", "priority", "area", "team"),
        Index("ix_cases_received_figures", "priority", "received_at", "first_contact_due_at",
              "first_contact_at", "area", "team"),
        Index("ix_cases_hate_received", "hate", "received_at", "area", "team"),
        Index("ix_cases_first_contact_waiting", "status", "first_contact_at",
              "first_contact_due_at", "priority", "area", "team"),
        Index("ix_cases_update_due", "status", "next_update_due_at", "update_frequency",
              "area", "team"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"))
    stage: Mapped[Stage] = mapped_column(str_enum(Stage, "stage"))
    priority: Mapped[int | None] = mapped_column(SmallInteger)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    received_at: Mapped[datetime] = mapped_column(Timestamp(), index=True)
    first_contact_due_at: Mapped[datetime | None] = mapped_column(Timestamp())
    first_contact_at: Mapped[datetime | None] = mapped_column(Timestamp())
    first_contact_breached_at: Mapped[datetime | None] = mapped_column(Timestamp())
    category: Mapped[Category] = mapped_column(str_enum(Category, "category"))
    hate_strands: Mapped[list[str]] = mapped_column(JSON, default=list)
    hate: Mapped[bool] = mapped_column(default=False)
    safeguarding: Mapped[bool] = mapped_column(default=False)
    repeat_victim: Mapped[bool] = mapped_column(default=False)
    confidential: Mapped[bool] = mapped_column(default=True)
    case_officer: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(128))
    update_cadence_days: Mapped[int | None] = mapped_column(Integer)
    update_frequency: Mapped[str | None] = mapped_column(String(32))
    next_update_due_at: Mapped[datetime | None] = mapped_column(Timestamp())
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp())
    closure_reason: Mapped[ClosureReason | None] = mapped_column(
        str_enum(ClosureReason, "closure_reason"))
    retention_until: Mapped[date | None] = mapped_column(Date)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    linked_from: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(Timestamp(), default=_utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp(), default=_utcnow)

    parties: Mapped[list[CaseParty]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True,
        order_by="CaseParty.id")
    incidents: Mapped[list[Incident]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True,
        order_by=lambda: (Incident.occurred_at, Incident.id))

    @property
    def first_contact_in_time(self) -> bool | None:
        """Tell whether first contact met its deadline (None while either is unknown)."""
        if self.first_contact_at is None or self.first_contact_due_at is None:
            return None
        return self.first_contact_at <= self.first_contact_due_at


class Person(Base):
    """A member of the public named in a case, with the keys used to match them."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # lower(name) with punctuation and spaces collapsed: a portable stand-in for an index on
    # lower(name), which SQLite cannot reflect (so migrations could not be checked).
    normalised_name: Mapped[str] = mapped_column(String(200), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(8), index=True)
    normalised_address: Mapped[str | None] = mapped_column(String(500), index=True)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(Timestamp(), default=_utcnow)


class CaseParty(Base):
    """A person's role in a case; the reporter's row carries their contact preferences."""

    __tablename__ = "case_parties"
    __table_args__ = (UniqueConstraint("case_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[PartyRole] = mapped_column(str_enum(PartyRole, "party_role"))
    contact_preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="parties")
    person: Mapped[Person] = relationship()


class Incident(Base):
    """One incident of anti-social behaviour reported on a case."""

    __tablename__ = "case_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp())
    reported_at: Mapped[datetime] = mapped_column(Timestamp(), index=True)
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(8), index=True)
    normalised_address: Mapped[str | None] = mapped_column(String(500), index=True)
    ward: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[Category] = mapped_column(str_enum(Category, "category"))
    hate_strands: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[IncidentSource] = mapped_column(str_enum(IncidentSource, "incident_source"))

    case: Mapped[Case] = relationship(back_populates="incidents")


class RiskAssessment(Base):
    """A risk assessment: the intake decision, the officer's, or a later review."""

    __tablename__ = "risk_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    assessed_at: Mapped[datetime] = mapped_column(Timestamp())
    assessed_by: Mapped[str] = mapped_column(String(64))
    kind: Mapped[AssessmentKind] = mapped_column(str_enum(AssessmentKind, "assessment_kind"))
    harm: Mapped[Level | None] = mapped_column(str_enum(Level, "harm"))
    vulnerability: Mapped[dict[str, bool] | None] = mapped_column(JSON)
    community_impact: Mapped[Level | None] = mapped_column(str_enum(Level, "community_impact"))
    child_at_risk: Mapped[bool] = mapped_column(default=False)
    vulnerable_adult: Mapped[bool] = mapped_column(default=False)
    threat_of_violence: Mapped[bool] = mapped_column(default=False)
    high_risk: Mapped[bool] = mapped_column(default=False)
    repeat_victim: Mapped[bool] = mapped_column(default=False)
    priority_before: Mapped[int | None] = mapped_column(SmallInteger)
    priority_after: Mapped[int | None] = mapped_column(SmallInteger)
    notes: Mapped[str | None] = mapped_column(Text)


class ActionPlan(Base):
    """One version of a case's action plan; the highest version is current."""

    __tablename__ = "action_plans"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    agreed_at: Mapped[datetime] = mapped_column(Timestamp())
    agreed_by: Mapped[str] = mapped_column(String(64))
    actions: Mapped[list[str]] = mapped_column(JSON)
    update_frequency: Mapped[str] = mapped_column(String(32))
    update_cadence_days: Mapped[int] = mapped_column(Integer)
    agreed_with_reporter: Mapped[bool] = mapped_column()


class ContactLogEntry(Base):
    """One contact with the reporter, in either direction."""

    __tablename__ = "contact_log_entries"
    __table_args__ = (Index("ix_contact_log_entries_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(Timestamp())
    by: Mapped[str] = mapped_column(String(64))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    method: Mapped[ContactMethod] = mapped_column(str_enum(ContactMethod, "contact_method"))
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind, "contact_kind"))
    summary: Mapped[str] = mapped_column(Text)


class Disclosure(Base):
    """Information about a case shared outside the council, with its legal basis."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(Timestamp())
    by: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(200))
    what: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[LegalBasis] = mapped_column(str_enum(LegalBasis, "legal_basis"))
    note: Mapped[str | None] = mapped_column(Text)


class CaseLink(Base):
    """A link between two cases, stored once per pair with the lower case id first."""

    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("case_id", "linked_case_id"),
        CheckConstraint("case_id < linked_case_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    linked_case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[LinkReason] = mapped_column(str_enum(LinkReason, "link_reason"))
    created_at: Mapped[datetime] = mapped_column(Timestamp(), default=_utcnow)
