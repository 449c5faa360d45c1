"""What the reporter's case page shows: only what is addressed to them, never other people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.challenge import CaseReview, Complaint
from cases.evidence_requests import EvidenceRequest, requests_of
from cases.outbox import OutboxMessage
from cases.records import Case, CaseStatus
from cases.reporter_access import ReporterSubmission, submissions_of

from .reporter_portal import officer_of, updates_for_reporter

# The stage in plain words, and what happens next.
STAGES: dict[str, tuple[str, str]] = {
    "intake": ("We have received your report",
               "We are deciding how urgent it is and who will be your case officer."),
    "triage": ("We are assessing your report",
               "We are looking at the risk to you and deciding how urgent it is."),
    "contact": ("Your case officer is in touch with you",
                "Your case officer will agree a plan with you and how often you will hear "
                "from them."),
    "support": ("We are arranging support",
                "We are working with other services to support you."),
    "evidence": ("We are gathering evidence",
                 "We may ask you for evidence such as diary entries, photos or recordings."),
    "legal_action": ("We are considering or taking formal action",
                     "Your case officer will tell you about any formal steps and what they "
                     "mean for you."),
    "case_review": ("Your case is in an ASB Case Review",
                    "A panel will look at how your reports were handled."),
    "complaint": ("We are looking at your complaint",
                  "We will reply to your complaint by the date below."),
    "closure": ("We are closing your case",
                "We will write to tell you why, and what to do if the problem comes back."),
}
CLOSED = ("Your case is closed",
          "If the problem comes back, report a new incident below: we will re-open your case "
          "or open a new one.")
KIND_WORDS = {"incident": "A new incident", "diary": "A diary entry",
              "evidence": "A file of evidence", "circumstances": "A change of circumstances",
              "preferences": "How you want to hear from us",
              "case_review": "An application for an ASB Case Review",
              "complaint": "A complaint"}


@dataclass
class Promise:
    """A date the council promised the reporter."""

    what: str
    due: datetime


@dataclass
class CasePage:
    """Everything the reporter's page shows."""

    case: Case
    stage: str
    next_step: str
    officer: dict[str, str]
    updates: list[OutboxMessage]
    requests: list[EvidenceRequest]
    promises: list[Promise] = field(default_factory=list)
    sent: list[tuple[str, ReporterSubmission]] = field(default_factory=list)
    reviews: list[CaseReview] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    frequency: str | None = None


def _promises(case: Case, requests: list[EvidenceRequest], reviews: list[CaseReview],
              complaints: list[Complaint]) -> list[Promise]:
    found: list[Promise] = []
    if case.first_contact_at is None and case.first_contact_due_at is not None:
        found.append(Promise("Your case officer will contact you by", case.first_contact_due_at))
    if case.status is CaseStatus.OPEN and case.next_update_due_at is not None:
        found.append(Promise("Your next update is due by", case.next_update_due_at))
    for request in requests:
        if str(request.status) == "open":
            found.append(Promise("Please send the evidence we asked for by", request.due_at))
    for review in reviews:
        if str(review.status) in ("received", "awaiting_decision"):
            found.append(Promise(f"Case Review {review.reference}: our decision by",
                                 review.decision_due_at))
        elif str(review.status) == "review_to_be_held":
            found.append(Promise(f"Case Review {review.reference}: the outcome by",
                                 review.outcome_due_at))
    for complaint in complaints:
        stage = complaint.stages[-1] if complaint.stages else None
        if stage is None or str(complaint.status) == "closed" or stage.responded_at:
            continue
        if stage.acknowledged_at is None:
            found.append(Promise(f"Complaint {complaint.reference}: we will acknowledge it by",
                                 stage.acknowledge_due_at))
        elif stage.response_due_at is not None:
            found.append(Promise(f"Complaint {complaint.reference}: our reply by",
                                 stage.response_due_at))
    return sorted(found, key=lambda p: p.due)


def case_page(session: Session, case: Case) -> CasePage:
    """The reporter's view of ``case``: no reported people, witnesses, notes or risk scores."""
    words = STAGES.get(str(case.stage), CLOSED) if case.status is CaseStatus.OPEN else CLOSED
    requests = requests_of(session, case)
    reviews = list(session.scalars(select(CaseReview).where(CaseReview.case_id == case.id)
                                   .order_by(CaseReview.id)))
    complaints = list(session.scalars(select(Complaint).where(Complaint.case_id == case.id)
                                      .order_by(Complaint.id)))
    sent = [(KIND_WORDS.get(row.kind, row.kind), row) for row in submissions_of(session, case)]
    return CasePage(case=case, stage=words[0], next_step=words[1],
                    officer=officer_of(session, case), updates=updates_for_reporter(session, case),
                    requests=requests, sent=sent, reviews=reviews, complaints=complaints,
                    promises=_promises(case, requests, reviews, complaints),
                    frequency=case.update_frequency)


def evidence_kinds(request: EvidenceRequest) -> str:
    """The kinds of evidence asked for, in words."""
    names: list[Any] = request.kinds or []
    return ", ".join(str(k).replace("_", " ") for k in names) or "evidence"
