"""The case record's enumerations: statuses, stages, roles, kinds and reasons."""

from __future__ import annotations

import enum

__all__ = [
    "AssessmentKind", "CaseStatus", "Category", "Channel", "ClosureReason", "ContactKind",
    "ContactMethod", "Direction", "HateStrand", "IncidentSource", "LegalBasis", "Level",
    "LinkReason", "PartyRole", "Stage",
]


class CaseStatus(enum.StrEnum):
    """Whether a case is being worked."""

    OPEN = "open"
    CLOSED = "closed"


class Stage(enum.StrEnum):
    """Where a case stands in its lifecycle (the API's ``stage``)."""

    INTAKE = "intake"
    TRIAGE = "triage"
    CONTACT = "contact"
    SUPPORT = "support"
    EVIDENCE = "evidence"
    LEGAL_ACTION = "legal_action"
    CASE_REVIEW = "case_review"
    COMPLAINT = "complaint"
    CLOSURE = "closure"


class Channel(enum.StrEnum):
    """How a report reached the council."""

    PHONE = "phone"
    ONLINE = "online"
    EMAIL = "email"
    FACE_TO_FACE = "face_to_face"


class Category(enum.StrEnum):
    """National Standard for Incident Recording categories."""

    PERSONAL = "personal"
    NUISANCE = "nuisance"
    ENVIRONMENTAL = "environmental"


class HateStrand(enum.StrEnum):
    """The five monitored hate strands."""

    DISABILITY = "disability"
    RACE = "race"
    RELIGION = "religion"
    SEXUAL_ORIENTATION = "sexual_orientation"
    TRANSGENDER = "transgender"


class PartyRole(enum.StrEnum):
    """The part a person plays in a case."""

    REPORTER = "reporter"
    VICTIM = "victim"
    WITNESS = "witness"
    REPORTED_PERSON = "reported_person"


class IncidentSource(enum.StrEnum):
    """How an incident entered the record."""

    REPORT = "report"
    NEW_INCIDENT = "new_incident"
    DIARY = "diary"


class AssessmentKind(enum.StrEnum):
    """Which assessment a risk assessment row records."""

    INITIAL_DECISION = "initial_decision"
    OFFICER = "officer"
    REVIEW = "review"


class Level(enum.StrEnum):
    """A three-step scale for harm and community impact."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Direction(enum.StrEnum):
    """Whether a contact came from the reporter or went to them."""

    INBOUND = "in"
    OUTBOUND = "out"


class ContactMethod(enum.StrEnum):
    """How a contact was made."""

    PHONE = "phone"
    FACE_TO_FACE = "face_to_face"
    EMAIL = "email"
    LETTER = "letter"
    SMS = "sms"


class ContactKind(enum.StrEnum):
    """What a contact was for."""

    FIRST_CONTACT = "first_contact"
    UPDATE = "update"
    ACKNOWLEDGEMENT = "acknowledgement"
    CLOSURE = "closure"
    OTHER = "other"


class LegalBasis(enum.StrEnum):
    """The legal basis on which information was disclosed."""

    CRIME_AND_DISORDER_ACT_S115 = "crime_and_disorder_act_s115"
    SAFEGUARDING = "safeguarding"
    CRIME_COMMITTED = "crime_committed"
    LEGAL_OBLIGATION = "legal_obligation"
    CONSENT = "consent"


class LinkReason(enum.StrEnum):
    """Why two cases are linked."""

    SAME_ADDRESS = "same_address"
    SAME_POSTCODE = "same_postcode"
    SAME_REPORTED_PERSON = "same_reported_person"
    REOPENED_AS_NEW = "reopened_as_new"


class ClosureReason(enum.StrEnum):
    """Why a case was closed (the ``close_case`` form)."""

    RESOLVED = "resolved"
    NO_FURTHER_ACTION = "no_further_action"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    REPORTER_WITHDREW = "reporter_withdrew"
    REFERRED_ELSEWHERE = "referred_elsewhere"
