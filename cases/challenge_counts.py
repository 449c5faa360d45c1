"""Counting for promise 8: qualifying complaints, second reports, and the annual figures.

DOMAIN.md, "ASB Case Review": a qualifying complaint is a report of ASB made within one month
of the behaviour; the threshold counts the reports about the same problem (the same location,
by normalised address or full postcode, or the same reported person), from any reporter, in
the 6 months before the application. Since the 2025 guidance every victim making a second
report within 6 months is told about the Case Review.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from cases.challenge import CaseReview, CaseReviewNotice, CaseReviewStatus, Recommendation
from cases.checks import _aware
from cases.common import reporter_of
from cases.config import LOCAL_TZ
from cases.enums import IncidentSource, PartyRole
from cases.records import Case, CaseParty, Incident, Person

# Diary entries are evidence, not reports made to the council.
REPORT_SOURCES = (IncidentSource.REPORT, IncidentSource.NEW_INCIDENT)


def add_months(moment: datetime, months: int) -> datetime:
    """The same London wall-clock time ``months`` calendar months on (or back, if negative);
    31 March minus one month is 28 or 29 February."""
    local = _aware("moment", moment).astimezone(LOCAL_TZ)
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    shifted = local.replace(year=year, month=month + 1, day=day, tzinfo=None)
    return shifted.replace(tzinfo=LOCAL_TZ).astimezone(UTC)


def qualifies(occurred_at: datetime, reported_at: datetime, qualifying_months: int) -> bool:
    """A report counts when it was made within ``qualifying_months`` of the behaviour."""
    return reported_at <= add_months(occurred_at, qualifying_months)


@dataclass(frozen=True)
class ThresholdCount:
    """What the threshold check found: the reports counted, and the declared ones."""

    incidents: list[int]        # case incident ids that qualify
    other_reports: int          # reports to the police or a social landlord that qualify
    considered: int             # reports about the problem in the window, qualifying or not

    @property
    def qualifying(self) -> int:
        return len(self.incidents) + self.other_reports


def _problem_filters(session: Session, review: CaseReview) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Incident`` meaning "about the same problem as the application"."""
    addresses = {review.normalised_address} - {None}
    postcodes = {review.postcode} - {None}
    people: set[tuple[str, str]] = set()
    if review.reported_person is not None and review.reported_person.normalised_address:
        people.add((review.reported_person.normalised_name,
                    review.reported_person.normalised_address))
    filters: list[ColumnElement[bool]] = []
    if review.case_id is not None:
        filters.append(Incident.case_id == review.case_id)
        for incident in session.scalars(select(Incident).where(
                Incident.case_id == review.case_id)):
            addresses |= {incident.normalised_address} - {None}
            postcodes |= {incident.postcode} - {None}
        people |= {(name, address) for name, address in session.execute(
            select(Person.normalised_name, Person.normalised_address).join(CaseParty).where(
                CaseParty.case_id == review.case_id,
                CaseParty.role == PartyRole.REPORTED_PERSON,
                Person.normalised_address.is_not(None)))}
    full_postcodes = {p for p in postcodes if " " in p}   # a district alone is not a place
    if addresses:
        filters.append(Incident.normalised_address.in_(addresses))
    if full_postcodes:
        filters.append(Incident.postcode.in_(full_postcodes))
    if people:
        filters.append(Incident.case_id.in_(
            select(CaseParty.case_id).join(Person).where(
                CaseParty.role == PartyRole.REPORTED_PERSON,
                or_(*(and_(Person.normalised_name == name, Person.normalised_address == address)
                      for name, address in people)))))
    return filters


def count_qualifying(session: Session, review: CaseReview, *, window_months: int,
                     qualifying_months: int) -> ThresholdCount:
    """Count the qualifying complaints about the review's problem before its application."""
    until = review.received_at
    since = add_months(until, -window_months)
    filters = _problem_filters(session, review)
    rows: list[tuple[int, datetime, datetime]] = []
    if filters:
        rows = [(i, occurred, reported) for i, occurred, reported in session.execute(
            select(Incident.id, Incident.occurred_at, Incident.reported_at).where(
                Incident.source.in_(REPORT_SOURCES), Incident.reported_at >= since,
                Incident.reported_at <= until, or_(*filters))
            .order_by(Incident.reported_at, Incident.id))]
    counted = [i for i, occurred, reported in rows
               if qualifies(occurred, reported, qualifying_months)]
    others = 0
    for report in review.other_reports or []:
        occurred = datetime.fromisoformat(report["occurred_at"])
        reported = datetime.fromisoformat(report["reported_at"])
        if since <= reported <= until and qualifies(occurred, reported, qualifying_months):
            others += 1
    return ThresholdCount(counted, others, len(rows) + len(review.other_reports or []))


def reports_by_same_victim(session: Session, case: Case, *, since: datetime, until: datetime
                           ) -> list[tuple[int, int]]:
    """The (incident id, case id) of reports from the case's reporter, or from or about their
    address, made between ``since`` and ``until`` (the rule of ``is_repeat_victim``)."""
    person, _ = reporter_of(session, case)
    addresses = {person.normalised_address} - {None}
    reporter = aliased(Person)
    same = [Incident.case_id == case.id, Incident.normalised_address.in_(addresses),
            reporter.normalised_address.in_(addresses)]
    contact = [reporter.phone == person.phone] if person.phone else []
    if person.email:
        contact.append(reporter.email == person.email)
    if contact:
        same.append(and_(reporter.normalised_name == person.normalised_name, or_(*contact)))
    query = (select(Incident.id, Incident.case_id)
             .join(CaseParty, and_(CaseParty.case_id == Incident.case_id,
                                   CaseParty.role == PartyRole.REPORTER))
             .join(reporter, CaseParty.person_id == reporter.id)
             .where(Incident.source.in_(REPORT_SOURCES), Incident.reported_at >= since,
                    Incident.reported_at <= until, or_(*same))
             .distinct().order_by(Incident.id))
    return [(incident, case_id) for incident, case_id in session.execute(query)]


def told_since(session: Session, case_ids: Iterable[int], since: datetime) -> bool:
    """Whether the reporter of any of these cases was told about the Case Review since then."""
    ids = set(case_ids)
    if not ids:
        return False
    return session.scalar(select(func.count(CaseReviewNotice.id)).where(
        CaseReviewNotice.case_id.in_(ids), CaseReviewNotice.told_at >= since)) != 0


def record_notice(session: Session, case: Case, *, at: datetime, reports: int
                  ) -> CaseReviewNotice:
    notice = CaseReviewNotice(case_id=case.id, told_at=_aware("at", at), reports=reports)
    session.add(notice)
    session.flush()
    return notice


def case_review_figures(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """The figures a council publishes each year (applications received in [start, end)):
    applications, times the threshold was not met, reviews carried out, reviews with
    recommendations; and how many met the threshold automatically."""
    in_period = and_(CaseReview.received_at >= _aware("start", start),
                     CaseReview.received_at < _aware("end", end))

    def count(*conditions: ColumnElement[bool]) -> int:
        return int(session.scalar(select(func.count(CaseReview.id)).where(
            in_period, *conditions)) or 0)

    with_recommendations = select(Recommendation.case_review_id)
    return {
        "applications": count(),
        "threshold_not_met": count(CaseReview.status == CaseReviewStatus.THRESHOLD_NOT_MET),
        "threshold_met_automatically": count(CaseReview.route == "automatic"),
        "reviews_held": count(CaseReview.review_held.is_(True)),
        "reviews_with_recommendations": count(CaseReview.id.in_(with_recommendations)),
    }


__all__ = ["REPORT_SOURCES", "ThresholdCount", "add_months", "case_review_figures",
           "count_qualifying", "qualifies", "record_notice", "reports_by_same_victim",
           "told_since"]
