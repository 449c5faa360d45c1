"""What part 2 of the lifecycle records on a case, gathered for the case file.

Referrals (with what was disclosed and on which legal basis), case conferences and their
actions, evidence requests (with the reason the reporter was given), diary entries, legal
actions with their dated steps, and Case Reviews and complaints that name the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.challenge import CaseReview, Complaint
from cases.evidence_requests import diary_of, requests_of
from cases.legal import actions_of, steps_of
from cases.records import Case
from cases.referrals import Referral
from cases.support import conference_actions, conferences_for_case


@dataclass
class Casework:
    """The part 2 records of one case, oldest first within each kind."""

    referrals: list[Referral] = field(default_factory=list)
    conferences: list[tuple[Any, list[Any]]] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    diary: list[Any] = field(default_factory=list)
    legal: list[tuple[Any, list[Any]]] = field(default_factory=list)
    reviews: list[CaseReview] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((self.referrals, self.conferences, self.requests, self.diary,
                        self.legal, self.reviews, self.complaints))


def casework_of(session: Session, case: Case) -> Casework:
    """Everything part 2 recorded on ``case``."""
    conferences = list(session.scalars(conferences_for_case(case)))
    return Casework(
        referrals=list(session.scalars(select(Referral).where(Referral.case_id == case.id)
                                       .order_by(Referral.referred_at, Referral.id))),
        conferences=[(c, list(session.scalars(conference_actions(c)))) for c in conferences],
        requests=requests_of(session, case),
        diary=diary_of(session, case),
        legal=[(a, steps_of(session, a)) for a in actions_of(session, case)],
        reviews=list(session.scalars(select(CaseReview).where(CaseReview.case_id == case.id)
                                     .order_by(CaseReview.id))),
        complaints=list(session.scalars(select(Complaint).where(Complaint.case_id == case.id)
                                        .order_by(Complaint.id))),
    )
