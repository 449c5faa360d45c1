"""ASB Case Review (promise 8; Anti-social Behaviour, Crime and Policing Act 2014 s104).

Process ``asb_case_review`` (bpmn/case_review.bpmn), one instance per application, with the
application's own reference (``CR-2027-0001``) as its business key: anyone may apply, with or
without a case. The threshold is counted here and decided by the decision table
``case_review_threshold``; partners decide the rest. Letters go to the applicant, who need not
be anyone's reporter; the reporter of a case is told about the Case Review on a second report
within 6 months (``case_review.inform_on_second_report``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from cases.challenge import (
    CaseReview,
    CaseReviewStatus,
    Recommendation,
    audit,
    create_case_review,
    review_by_reference,
)
from cases.challenge_counts import (
    add_months,
    count_qualifying,
    record_notice,
    reports_by_same_victim,
    told_since,
)
from cases.config import LOCAL_TZ, get_setting
from cases.operations import case_by_reference, reporter_of
from cases.outbox import OutboxMessage
from cases.people import find_user
from cases.records import Case, CaseDataInvalid, CaseNotFound, Person
from engine import calendar, clock
from engine.errors import FormInvalid
from engine.handlers import ServiceContext
from engine.runtime import CaseEngine

from .common import case_of, iso, moment, pop_text, setting, working_days_after
from .notifications import tell_reporter
from .notify.service import notify_reporter
from .registry import handlers
from .stages import stage_start_data

CASE_REVIEW_PROCESS = "asb_case_review"
PHONE_PROCESS = "asb_phone_call"
# s104(3): a council may set a lower threshold, never a higher one.
STATUTORY_THRESHOLD = 3
# The second-report window and the chase interval are council settings
# (case_review_second_report_months, case_review_chase_working_days).
T = TypeVar("T")


# -- letters to someone who is not (necessarily) a case's reporter ----------------------------

def signatory(ctx: ServiceContext, user_name: str | None, team: str) -> dict[str, str]:
    """Who signs a letter: the council user named, else the council's team of that name."""
    council = setting(ctx, "council_details")
    user = find_user(ctx.session, user_name) if user_name else None
    if user is None or not user.active:
        return {"name": f"The {team}", "phone": council["phone"], "email": council["email"]}
    return {"name": user.display_name or user.name, "phone": user.phone or council["phone"],
            "email": user.email or council["email"]}


def write_to(ctx: ServiceContext, *, reference: str, person: Person,
             prefs: Mapping[str, Any] | None, template: str, extra: Mapping[str, Any],
             officer: Mapping[str, str], phone_officer: str | None) -> OutboxMessage | None:
    """Queue ``template`` to ``person`` by a safe written channel, else ask for a phone call."""
    contacts = {k: v for k, v in (("email", person.email), ("sms", person.phone),
                                  ("letter", person.address)) if v}

    def phone_instead(reason: str) -> None:
        ctx.start_process(PHONE_PROCESS, {"case_officer": phone_officer, "reason": reason,
                                          "template": template, "case_reference": reference})

    context = {"council": setting(ctx, "council_details"), "officer": dict(officer),
               "recipient_name": person.name, **extra}
    return notify_reporter(ctx.session, case_reference=reference, template=template,
                           context=context, prefs=prefs, contacts=contacts, now=ctx.now,
                           officer_phone_task=phone_instead)


def channel_of(message: OutboxMessage | None) -> str:
    return str(message.channel) if message is not None else "phone"


def start_elsewhere(ctx: ServiceContext, start: Callable[[CaseEngine], T]) -> T:
    """Start a process under another business key from inside a step of this one.

    ``ctx.start_process`` keeps the running instance's key; a Case Review or complaint has its
    own. A fresh engine (its spec cache would not survive a test's rolled-back ids) starts it
    in the same transaction, inside a savepoint so that a failure leaves nothing half made.
    """
    from .wiring import build_engine

    with ctx.session.begin_nested():
        return start(build_engine())


# -- applying ---------------------------------------------------------------------------------

def linked_case(session: Session, reference: str | None) -> Case | None:
    if not reference:
        return None
    try:
        return case_by_reference(session, reference)
    except CaseNotFound:
        raise CaseDataInvalid("case_reference", "no case has this reference") from None


def routing_of(session: Session, case: Case | None) -> dict[str, Any]:
    """The case officer and team leader of a linked case (None without one)."""
    if case is None:
        return {"case_reference": None, "case_officer": None, "team_leader": None}
    data = stage_start_data(session, case, "system")
    return {k: data[k] for k in ("case_reference", "case_officer", "team_leader")}


def apply_for_case_review(
    session: Session, engine: CaseEngine, *, applicant: Mapping[str, Any], description: str,
    relationship: str = "victim", location: str | None = None, postcode: str | None = None,
    reported_person: Mapping[str, Any] | None = None,
    other_reports: list[Mapping[str, Any]] | None = None, case_reference: str | None = None,
    received_at: datetime | None = None, actor: str,
) -> CaseReview:
    """Record an application for a Case Review and start ``asb_case_review`` for it.

    ``applicant``: ``name``, ``phone``, ``email``, ``address``, ``contact_preferences``;
    ``relationship``: victim, on_behalf_of_victim, elected_representative,
    business_or_community or other. Refused with ``CaseDataInvalid`` (field errors).
    """
    received = received_at or clock.now()
    case = linked_case(session, case_reference)
    days = get_setting(session, "case_review_timescales_working_days", at=received)
    cob = get_setting(session, "close_of_business", at=received)
    due = {key: calendar.due_after_working_days(received, int(days[key]), close_of_business=cob)
           for key in ("acknowledge", "decide", "outcome")}
    review = create_case_review(session, {
        "applicant": applicant, "relationship": relationship, "description": description,
        "location": location, "postcode": postcode, "reported_person": reported_person,
        "other_reports": other_reports}, case=case, received_at=received, by=actor, due=due)
    data = {"case_review_reference": review.reference, **routing_of(session, case),
            "received_at": iso(review.received_at),
            **{f"{key}_due": iso(value) for key, value in
               (("acknowledge", review.acknowledge_due_at), ("decision", review.decision_due_at),
                ("outcome", review.outcome_due_at))}}
    engine.start(session, CASE_REVIEW_PROCESS, review.reference, data, actor=actor)
    return review


@handlers.register("case_review.apply_from_case")
def apply_from_case(ctx: ServiceContext) -> dict[str, Any]:
    """A ``case_review_application`` sent to a case: by default the reporter applies about it."""
    payload = ctx.data.pop("case_review_application", None) or {}
    case = case_of(ctx)
    person, party = reporter_of(ctx.session, case)
    applicant = payload.get("applicant") or {
        "name": person.name, "phone": person.phone, "email": person.email,
        "address": person.address, "contact_preferences": party.contact_preferences or {}}
    latest = case.incidents[-1] if case.incidents else None
    received = moment(payload["received_at"]) if payload.get("received_at") else ctx.now
    review = start_elsewhere(ctx, lambda engine: apply_for_case_review(
        ctx.session, engine, applicant={k: v for k, v in applicant.items() if v is not None},
        relationship=payload.get("relationship") or (
            "other" if payload.get("applicant") else "victim"),
        description=payload.get("description")
        or f"Application for a Case Review about case {case.reference}.",
        location=payload.get("location") or (latest.location if latest else None),
        reported_person=payload.get("reported_person"),
        other_reports=payload.get("other_reports"), case_reference=case.reference,
        received_at=received, actor=ctx.actor))
    return {"case_review_reference": review.reference}


# -- the threshold ----------------------------------------------------------------------------

def review_of(ctx: ServiceContext) -> CaseReview:
    return review_by_reference(ctx.session, ctx.business_key)


def letter(ctx: ServiceContext, review: CaseReview, template: str, **extra: Any) -> str:
    """Write to the applicant; return the channel used."""
    officer = signatory(ctx, ctx.data.get("team_leader") or ctx.actor,
                        "anti-social behaviour team")
    facts = {"received_at": review.received_at, "outcome_due": review.outcome_due_at,
             "decision_due": review.decision_due_at,
             "case_review_threshold": review.threshold or STATUTORY_THRESHOLD}
    return channel_of(write_to(
        ctx, reference=review.reference, person=review.applicant,
        prefs=review.contact_preferences, template=template, extra={**facts, **extra},
        officer=officer, phone_officer=ctx.data.get("case_officer")))


@handlers.register("case_review.count_qualifying")
def count_qualifying_complaints(ctx: ServiceContext) -> dict[str, Any]:
    """Count qualifying complaints about the problem in the window before the application,
    with the council's threshold then in force (never above the statutory 3)."""
    review = review_of(ctx)
    at = review.received_at
    threshold = max(1, min(int(setting(ctx, "case_review_threshold", at)),
                           STATUTORY_THRESHOLD))
    found = count_qualifying(
        ctx.session, review, window_months=int(setting(ctx, "case_review_window_months", at)),
        qualifying_months=int(setting(ctx, "case_review_qualifying_months", at)))
    review.qualifying_complaints, review.threshold = found.qualifying, threshold
    review.counted_incidents = found.incidents
    ctx.data["qualifying_complaints"], ctx.data["threshold"] = found.qualifying, threshold
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="counted",
          reference=review.reference, qualifying=found.qualifying, threshold=threshold,
          considered=found.considered)
    return {"qualifying_complaints": found.qualifying, "threshold": threshold}


@handlers.register("case_review.acknowledge")
def acknowledge(ctx: ServiceContext) -> dict[str, Any]:
    """Acknowledge the application; when the count met the threshold, say a review will be
    held (that is the threshold decision, made now)."""
    review = review_of(ctx)
    met = bool(ctx.data.get("threshold_met"))
    review.route, review.acknowledged_at = str(ctx.data.get("route") or ""), ctx.now
    if met:
        review.threshold_met, review.decided_at, review.decided_by = True, ctx.now, "system"
        review.status = CaseReviewStatus.REVIEW_TO_BE_HELD
    else:
        review.status = CaseReviewStatus.AWAITING_DECISION
    channel = letter(ctx, review, "case_review_acknowledgement", threshold_met=met,
                     qualifying_complaints=review.qualifying_complaints)
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="acknowledged",
          reference=review.reference, threshold_met=met, route=review.route, channel=channel)
    return {"threshold_met": met, "channel": channel}


def _record_decision(ctx: ServiceContext, review: CaseReview, hold: bool) -> str:
    reasons = str(ctx.data.get("reasons") or "").strip()
    review.threshold_met, review.decided_at, review.decided_by = hold, ctx.now, ctx.actor
    review.decision = {k: ctx.data.get(k) for k in ("persistent", "harm", "response_adequate")}
    review.decision_reasons = reasons
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="decided",
          reference=review.reference, hold_review=hold, **review.decision)
    pop_text(ctx, "reasons")
    return reasons


@handlers.register("case_review.review_agreed")
def review_agreed(ctx: ServiceContext) -> dict[str, Any]:
    """The partners decided to hold a review: record why and tell the applicant."""
    review = review_of(ctx)
    reasons = _record_decision(ctx, review, True)
    review.status = CaseReviewStatus.REVIEW_TO_BE_HELD
    return {"channel": letter(ctx, review, "case_review_decision", reasons=reasons)}


@handlers.register("case_review.threshold_not_met")
def threshold_not_met(ctx: ServiceContext) -> dict[str, Any]:
    """No review: the applicant gets the reasons and how to complain or go to the Ombudsman."""
    review = review_of(ctx)
    reasons = _record_decision(ctx, review, False)
    review.status, review.completed_at = CaseReviewStatus.THRESHOLD_NOT_MET, ctx.now
    return {"channel": letter(ctx, review, "case_review_not_met", reasons=reasons)}


# -- the review, its recommendations and their tracking ----------------------------------------

@handlers.register("case_review.record_panel")
def record_panel(ctx: ServiceContext) -> dict[str, Any]:
    """The review panel met: when, and which agencies took part."""
    review = review_of(ctx)
    met_at = moment(ctx.data["meeting_at"])
    if met_at < review.received_at or met_at > ctx.now + timedelta(minutes=5):
        raise FormInvalid({"meeting_at": "must fall between the application and now"})
    agencies = [" ".join(str(a).split()) for a in ctx.data["agencies"] if str(a).strip()]
    review.review_held, review.panel_met_at, review.agencies = True, met_at, agencies
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="panel_held",
          reference=review.reference, agencies=agencies)
    pop_text(ctx, "notes")
    return {"agencies": len(agencies)}


def parse_recommendations(ctx: ServiceContext, lines: list[str]) -> list[tuple[str, str,
                                                                                 datetime]]:
    """Read "what; who; YYYY-MM-DD" lines; a due date is close of business that day."""
    cob = time.fromisoformat(str(setting(ctx, "close_of_business")))
    today = ctx.now.astimezone(LOCAL_TZ).date()
    found, errors = [], {}
    for i, line in enumerate(lines):
        parts = [" ".join(p.split()) for p in line.split(";")]
        try:
            what, owner, day = parts
            due = datetime.combine(datetime.fromisoformat(day).date(), cob, LOCAL_TZ)
        except ValueError:
            errors[f"recommendations.{i}"] = "write it as: what; who owns it; YYYY-MM-DD"
            continue
        if not what or not owner:
            errors[f"recommendations.{i}"] = "say what is recommended and who owns it"
        elif due.date() < today:
            errors[f"recommendations.{i}"] = "the due date has already passed"
        found.append((what, owner[:200], due.astimezone(UTC)))
    if errors:
        raise FormInvalid(errors)
    return found


@handlers.register("case_review.send_outcome")
def send_outcome(ctx: ServiceContext) -> dict[str, Any]:
    """Record the panel's findings and recommendations and send the outcome letter."""
    review = review_of(ctx)
    found = parse_recommendations(ctx, list(ctx.data.get("recommendations") or []))
    review.findings = str(ctx.data["findings"]).strip()
    review.recommendations = [Recommendation(number=i, text=what, owner=owner, due_at=due)
                              for i, (what, owner, due) in enumerate(found, start=1)]
    review.outcome_sent_at = ctx.now
    review.status = CaseReviewStatus.TRACKING
    channel = letter(ctx, review, "case_review_outcome", findings=review.findings,
                     recommendations=[{"number": r.number, "text": r.text, "owner": r.owner,
                                       "due": r.due_at} for r in review.recommendations])
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="outcome_sent",
          reference=review.reference, recommendations=len(found), channel=channel,
          in_time=ctx.now <= review.outcome_due_at)
    pop_text(ctx, "findings", "recommendations")
    return {"recommendations": len(found), "channel": channel}


@handlers.register("case_review.check_recommendations")
def check_recommendations(ctx: ServiceContext) -> dict[str, Any]:
    """Which recommendations are open, whether to chase now, and when to look again."""
    review = review_of(ctx)
    now = ctx.now
    open_ = [r for r in review.recommendations if r.done_at is None]
    ctx.data["recommendations_open"] = bool(open_)
    if not open_:
        review.status = CaseReviewStatus.COMPLETED
        review.completed_at = review.completed_at or now
        ctx.data["chase_now"] = False
        audit(ctx.session, at=now, actor=ctx.actor, action="completed",
              reference=review.reference)
        return {"open": 0}

    def chase_again(r: Recommendation) -> datetime:
        if r.last_chased_at is None:
            return r.due_at
        return working_days_after(ctx, r.last_chased_at,
                                  int(setting(ctx, "case_review_chase_working_days")))

    overdue = [r for r in open_ if r.due_at <= now and chase_again(r) <= now]
    ctx.data["chase_now"] = bool(overdue)
    ctx.data["next_check_at"] = iso(min(chase_again(r) for r in open_ if r not in overdue)
                                    if len(overdue) < len(open_) else now)
    ctx.data["chase_due"] = iso(working_days_after(
        ctx, now, int(setting(ctx, "case_review_chase_working_days"))))
    return {"open": len(open_), "overdue": [r.number for r in overdue]}


def mark_done(review: CaseReview, number: int, *, at: datetime, note: str | None = None
              ) -> Recommendation:
    """Record a recommendation as carried out (the tracking loop ends when all are)."""
    found = [r for r in review.recommendations if r.number == number]
    if not found:
        raise CaseDataInvalid("number", f"there is no recommendation {number}")
    if found[0].done_at is None:
        found[0].done_at, found[0].done_note = at, (note or "").strip() or None
    return found[0]


def record_recommendation_done(session: Session, reference: str, number: int, *,
                               note: str | None, actor: str) -> Recommendation:
    """From the case file or the API: a recommendation was carried out."""
    review = review_by_reference(session, reference)
    done = mark_done(review, number, at=clock.now(), note=note)
    audit(session, at=clock.now(), actor=actor, action="recommendation_done",
          reference=reference, number=number)
    session.flush()
    return done


@handlers.register("case_review.record_chase")
def record_chase(ctx: ServiceContext) -> dict[str, Any]:
    """The team leader chased the owners: some recommendations may now be done."""
    review = review_of(ctx)
    numbers = sorted({int(n) for n in ctx.data.get("done") or []})
    try:
        for number in numbers:
            mark_done(review, number, at=ctx.now)
    except CaseDataInvalid as exc:
        raise FormInvalid({"done": exc.message}) from exc
    chased = [r for r in review.recommendations if r.done_at is None and r.due_at <= ctx.now]
    for r in chased:
        r.last_chased_at, r.times_chased = ctx.now, r.times_chased + 1
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="recommendations_chased",
          reference=review.reference, done=numbers, chased=[r.number for r in chased])
    pop_text(ctx, "chased", "done")
    return {"done": numbers, "chased": [r.number for r in chased]}


# -- telling a repeat reporter -----------------------------------------------------------------

@handlers.register("case_review.inform_on_second_report")
def inform_on_second_report(ctx: ServiceContext) -> dict[str, Any]:
    """A second report within 6 months by the same reporter (or from their address): tell
    them about the Case Review, once in any 6 months."""
    case = case_of(ctx)
    since = add_months(ctx.now, -int(setting(ctx, "case_review_second_report_months")))
    reports = reports_by_same_victim(ctx.session, case, since=since, until=ctx.now)
    if len(reports) < 2:
        return {"told": False, "reports": len(reports)}
    if told_since(ctx.session, {case_id for _, case_id in reports}, since):
        return {"told": False, "reports": len(reports), "told_before": True}
    message = tell_reporter(ctx, case, "case_review_information",
                            {"reports": len(reports)})
    record_notice(ctx.session, case, at=ctx.now, reports=len(reports))
    return {"told": True, "reports": len(reports), "channel": channel_of(message)}
