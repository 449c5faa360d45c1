"""The manager's figures about a period: hate, legal action, referrals, Case Reviews, NM01.

Each counts what began in the chosen months (a case received, an action started, a referral
made, an application received), aggregated by the database. docs/dashboard.md defines them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, String, case, cast, func, select
from sqlalchemy.orm import Session

from cases.challenge import CaseReview, CaseReviewStatus, Recommendation
from cases.config import get_setting
from cases.enums import HateStrand
from cases.figures import Filters, in_period, in_scope
from cases.legal import LegalAction
from cases.records import Case
from cases.referrals import Referral

__all__ = ["CASE_REVIEW_MEASURES", "case_review_figures", "hate_by_strand", "homes_count",
           "legal_by_tool", "nm01_counts", "per_thousand_homes", "referrals_by_agency",
           "strand_condition"]

# The four figures a council publishes each year (DOMAIN.md, "ASB Case Review").
CASE_REVIEW_MEASURES = {
    "applications": "Applications received",
    "threshold_not_met": "Times the threshold was not met",
    "reviews_held": "Case Reviews carried out",
    "with_recommendations": "Case Reviews that made recommendations",
}


def strand_condition(strand: HateStrand) -> Any:
    """The case names ``strand`` among its hate strands (a JSON list, matched as text)."""
    return cast(Case.hate_strands, String).like(f'%"{strand.value}"%')


def hate_by_strand(f: Filters) -> Select[Any]:
    """Hate cases received in the period, in all and for each of the five strands.

    ``ix_cases_hate_received`` leads to the hate cases alone; only their rows are read.
    """
    per_strand = [func.sum(case((strand_condition(s), 1), else_=0)).label(s.value)
                  for s in HateStrand]
    return (select(func.count().label("cases"), *per_strand)
            .where(Case.hate.is_(True), in_period(Case.received_at, f.start, f.end),
                   *in_scope(f)))


def _scoped(query: Select[Any], case_id: Any, f: Filters) -> Select[Any]:
    """Join to the case only when an area or team is chosen (every row has a case)."""
    scope = in_scope(f)
    return query.join(Case, Case.id == case_id).where(*scope) if scope else query


def legal_by_tool(f: Filters) -> Select[Any]:
    """Legal actions started in the period on cases in scope, by tool, status and outcome."""
    query = (select(LegalAction.tool, LegalAction.status, LegalAction.outcome,
                    func.count().label("actions"))
             .where(in_period(LegalAction.started_at, f.start, f.end))
             .group_by(LegalAction.tool, LegalAction.status, LegalAction.outcome)
             .order_by(LegalAction.tool, LegalAction.status, LegalAction.outcome))
    return _scoped(query, LegalAction.case_id, f)


def referrals_by_agency(f: Filters) -> Select[Any]:
    """Referrals made in the period on cases in scope, by agency and where each stands."""
    query = (select(Referral.agency_code, func.max(Referral.agency_name).label("agency"),
                    Referral.status, func.count().label("referrals"))
             .where(in_period(Referral.referred_at, f.start, f.end))
             .group_by(Referral.agency_code, Referral.status)
             .order_by(Referral.agency_code, Referral.status))
    return _scoped(query, Referral.case_id, f)


def case_review_condition(measure: str) -> Any:
    """The condition on ``CaseReview`` for one of ``CASE_REVIEW_MEASURES``."""
    conditions = {
        "applications": CaseReview.id.is_not(None),
        "threshold_not_met": CaseReview.status == CaseReviewStatus.THRESHOLD_NOT_MET,
        "reviews_held": CaseReview.review_held.is_(True),
        "with_recommendations": CaseReview.id.in_(select(Recommendation.case_review_id)),
    }
    return conditions[measure]


def case_review_figures(f: Filters) -> Select[Any]:
    """The Case Review figures for publication, for applications received in the period.

    Council-wide: an application need not have a case, so area and team do not apply.
    """
    return (select(*[func.sum(case((case_review_condition(m), 1), else_=0)).label(m)
                     for m in CASE_REVIEW_MEASURES])
            .where(in_period(CaseReview.received_at, f.start, f.end)))


def nm01_counts(f: Filters) -> Select[Any]:
    """ASB cases opened (received) in the period, and those of them about hate; council-wide.

    Two index-only counts (``ix_cases_received_at`` and ``ix_cases_hate_received``).
    """
    received = in_period(Case.received_at, f.start, f.end)
    cases = select(func.count()).select_from(Case).where(received).scalar_subquery()
    hate = (select(func.count()).select_from(Case).where(Case.hate.is_(True), received)
            .scalar_subquery())
    return select(cases.label("cases"), hate.label("hate"))


def homes_count(session: Session, f: Filters) -> int:
    """The homes the council owns, as configured at the end of the period (or now)."""
    at: datetime = min(f.end - timedelta(microseconds=1), f.now)
    value = get_setting(session, "homes_count", at=at)
    return int(value or 0)


def per_thousand_homes(cases: int, homes: int) -> Decimal | None:
    """Cases per 1,000 homes to two decimal places; None when the council owns no homes."""
    if homes <= 0:
        return None
    return (Decimal(cases) * 1000 / Decimal(homes)).quantize(Decimal("0.01"), ROUND_HALF_UP)
