"""Possession on the absolute ground for anti-social behaviour (Housing Act 1985 s84A).

The notice seeking possession must be served within 12 months beginning with the day of the
trigger (the conviction or the court's finding of breach), 3 months for a closure order, or
from the day an appeal was finally determined (s83ZA). A council tenant may ask for a review
within 7 days beginning with the day of service (s85ZA), a limit the council cannot extend
(Harris v Hounslow LBC [2017] EWCA Civ 1476); the review is decided by someone senior who took
no part in the decision, and the tenant told before the day the notice names for proceedings.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cases.legal import LegalTool, end_action, open_action
from engine.handlers import ServiceContext

from .common import case_of, iso
from .legal_clock import end_of_day, last_day_of_period, review_request_deadline, start_of_day
from .legal_court_common import (
    ACTION_ID,
    action_of,
    form_date,
    form_moment,
    last_step,
    local_day,
    not_in_future,
    optional_date,
    refuse,
    step,
    take,
    tell,
    text,
    when,
)
from .registry import handlers

TOOL = LegalTool.POSSESSION
NOTICE_MONTHS = {"serious_offence_conviction": 12, "injunction_breach": 12,
                 "cbo_breach_conviction": 12, "closure_order": 3,
                 "noise_nuisance_conviction": 12}
TRIGGER_DAY = {"serious_offence_conviction": "the day of the conviction",
               "injunction_breach": "the day the court found the breach",
               "cbo_breach_conviction": "the day of the conviction",
               "closure_order": "the day the closure order was made",
               "noise_nuisance_conviction": "the day of the conviction"}


def _period(trigger: str, start: date, appeal: bool) -> str:
    months = NOTICE_MONTHS[trigger]
    day = "the day the appeal was finally determined" if appeal else TRIGGER_DAY[trigger]
    return f"within {months} months beginning with {day} ({when(start)})"


@handlers.register("possession.record_trigger")
def record_trigger(ctx: ServiceContext) -> dict[str, Any]:
    """Open the possession action; refuse a trigger whose time for a notice has passed."""
    trigger = str(ctx.data["trigger"])
    trigger_date = form_date(ctx, "trigger_date")
    not_in_future(ctx, "trigger_date", trigger_date)
    appeal = optional_date(ctx, "appeal_determined_on")
    if appeal is not None:
        not_in_future(ctx, "appeal_determined_on", appeal)
        if appeal < trigger_date:
            refuse("appeal_determined_on", "The appeal cannot end before the date of the trigger.")
    start = appeal or trigger_date
    last_day = last_day_of_period(start, NOTICE_MONTHS[trigger])
    if local_day(ctx.now) > last_day:
        refuse("appeal_determined_on" if appeal else "trigger_date",
               "Too late for the absolute ground: the notice seeking possession had to be served "
               f"{_period(trigger, start, appeal is not None)}, so by {when(last_day)} at the "
               "latest (Housing Act 1985, s83ZA). Consider the other grounds for possession.")
    case = case_of(ctx)
    action = open_action(
        ctx.session, case, TOOL, at=ctx.now, by=ctx.actor, respondent=text(ctx, "tenant_name"),
        details={"property_address": text(ctx, "property_address"), "trigger": trigger,
                 "trigger_date": trigger_date.isoformat(),
                 "appeal_determined_on": appeal.isoformat() if appeal else None,
                 "details": text(ctx, "details"), "notice_last_day": last_day.isoformat()})
    deadline = end_of_day(last_day)
    step(ctx, action, "trigger_recorded", f"{trigger.replace('_', ' ').capitalize()} on "
         f"{when(trigger_date)}; the notice must be served by {when(last_day)}.",
         due_at=deadline)
    ctx.data.update({ACTION_ID: action.id, "notice_last_day": last_day.isoformat(),
                     "notice_deadline": iso(deadline)})
    take(ctx, "tenant_name", "property_address", "details")
    return {"legal_action": action.id, "notice_last_day": last_day.isoformat()}


@handlers.register("possession.record_notice")
def record_notice(ctx: ServiceContext) -> dict[str, Any]:
    """The notice served in time; the tenant's 7 days for a review start with that day."""
    case, action = action_of(ctx, TOOL)
    served_on = form_date(ctx, "served_on")
    proceedings_after = form_date(ctx, "proceedings_after")
    not_in_future(ctx, "served_on", served_on)
    details = action.details
    trigger, trigger_date = details["trigger"], date.fromisoformat(details["trigger_date"])
    last_day = date.fromisoformat(details["notice_last_day"])
    if served_on > last_day:
        start = date.fromisoformat(details["appeal_determined_on"] or details["trigger_date"])
        refuse("served_on", "Too late: a notice seeking possession on the absolute ground had to "
               f"be served {_period(trigger, start, bool(details['appeal_determined_on']))}, so "
               f"by {when(last_day)} (Housing Act 1985, s83ZA). A notice served after that "
               "cannot support possession on this ground.")
    if served_on < trigger_date:
        refuse("served_on", "The notice cannot be served before the trigger it relies on.")
    if proceedings_after <= served_on:
        refuse("proceedings_after", "The date after which proceedings may begin must be after "
               "the day the notice was served.")
    review_deadline = review_request_deadline(served_on)
    action.details = {**details, "served_on": served_on.isoformat(),
                      "proceedings_after": proceedings_after.isoformat()}
    step(ctx, action, "notice_served", f"Notice served on {when(served_on)} "
         f"({str(ctx.data['served_how']).replace('_', ' ')}); a review may be asked for until "
         f"{when(review_deadline)}; proceedings may begin after {when(proceedings_after)}.",
         due_at=review_deadline)
    ctx.data.update(review_deadline=iso(review_deadline),
                    review_due=iso(start_of_day(proceedings_after)))
    channel = tell(ctx, case, "court_possession", "notice_served")
    return {"review_deadline": iso(review_deadline), "reporter_told": channel}


@handlers.register("possession.notice_out_of_time")
def notice_out_of_time(ctx: ServiceContext) -> dict[str, Any]:
    """No notice was recorded before the time ran out: the absolute ground is gone."""
    case, action = action_of(ctx, TOOL)
    step(ctx, action, "notice_out_of_time", "No notice seeking possession was served by "
         f"{when(date.fromisoformat(ctx.data['notice_last_day']))}.")
    end_action(ctx.session, case, action, "notice_out_of_time", at=ctx.now, by=ctx.actor)
    channel = tell(ctx, case, "court_possession", "out_of_time")
    return {"outcome": "notice_out_of_time", "reporter_told": channel}


@handlers.register("possession.record_review_request")
def record_review_request(ctx: ServiceContext) -> dict[str, Any]:
    """The tenant's request for a review (message ``possession_review_requested``)."""
    _case, action = action_of(ctx, TOOL)
    payload = ctx.data.pop("possession_review_requested", None) or {}
    said = str(payload.get("summary") or "").strip() if isinstance(payload, dict) else ""
    oral = bool(isinstance(payload, dict) and payload.get("oral_hearing"))
    step(ctx, action, "review_requested", "The tenant asked for a review"
         + (" with an oral hearing" if oral else "") + (f": {said}" if said else "."),
         due_at=start_of_day(date.fromisoformat(action.details["proceedings_after"])))
    return {"oral_hearing": oral}


@handlers.register("possession.record_review")
def record_review(ctx: ServiceContext) -> dict[str, Any]:
    """The review decision, by someone independent, notified before proceedings may begin."""
    case, action = action_of(ctx, TOOL)
    decision = str(ctx.data["decision"])
    reviewed_on, notified_on = form_date(ctx, "reviewed_on"), form_date(ctx, "tenant_notified_on")
    not_in_future(ctx, "reviewed_on", reviewed_on)
    not_in_future(ctx, "tenant_notified_on", notified_on)
    requested = last_step(ctx, action, "review_requested")
    if requested is not None and reviewed_on < local_day(requested.at):
        refuse("reviewed_on", "The review cannot be before the tenant asked for it.")
    if notified_on < reviewed_on:
        refuse("tenant_notified_on", "The tenant cannot be told before the review decided.")
    deciders = {action.started_by} | {s.by for s in [last_step(ctx, action, "notice_served")]
                                      if s is not None}
    if ctx.actor in deciders:
        refuse("reviewer_independent", "The review must be carried out by someone who took no "
               "part in the decision to seek possession; ask another senior officer.")
    proceedings_after = date.fromisoformat(action.details["proceedings_after"])
    if decision == "upheld" and notified_on >= proceedings_after:
        refuse("tenant_notified_on", "The tenant must be told the outcome of the review before "
               f"{when(proceedings_after)}, the date the notice gives for proceedings (Housing "
               "Act 1985, s85ZA): a later review cannot support proceedings. Serve a new notice "
               "if time allows.")
    step(ctx, action, f"review_{decision}", f"Review decided on {when(reviewed_on)} "
         f"({decision}); tenant told on {when(notified_on)}: {text(ctx, 'reasons')}")
    channel = None
    if decision == "overturned":
        end_action(ctx.session, case, action, "review_overturned", at=ctx.now, by=ctx.actor)
        channel = tell(ctx, case, "court_possession", "review_overturned")
    ctx.data["review_decision"] = decision
    take(ctx, "reasons", "decision")
    return {"decision": decision, "reporter_told": channel}


@handlers.register("possession.record_application")
def record_application(ctx: ServiceContext) -> dict[str, Any]:
    """The claim for possession, not before the date the notice gave."""
    case, action = action_of(ctx, TOOL)
    applied_on, hearing_at = form_date(ctx, "applied_on"), form_moment(ctx, "hearing_at")
    not_in_future(ctx, "applied_on", applied_on)
    proceedings_after = date.fromisoformat(action.details["proceedings_after"])
    if applied_on <= proceedings_after:
        refuse("applied_on", f"Proceedings may begin only after {when(proceedings_after)}, the "
               "date given in the notice seeking possession (Housing Act 1985, s83ZA).")
    if local_day(hearing_at) < applied_on:
        refuse("hearing_at", "The hearing cannot be before the claim was issued.")
    step(ctx, action, "possession_claimed", f"Claim issued in {text(ctx, 'court_name')} on "
         f"{when(applied_on)}; hearing {when(hearing_at)}.", due_at=hearing_at)
    ctx.data["hearing_at"] = iso(hearing_at)
    channel = tell(ctx, case, "court_possession", "applied", hearing_at=hearing_at)
    take(ctx, "court_name")
    return {"hearing_at": iso(hearing_at), "reporter_told": channel}


@handlers.register("possession.record_hearing")
def record_hearing(ctx: ServiceContext) -> dict[str, Any]:
    """The court's decision ends the action: possession order, dismissed or withdrawn."""
    case, action = action_of(ctx, TOOL)
    outcome = str(ctx.data["outcome"])
    summary = f"Possession claim {outcome.replace('_', ' ')}."
    if outcome == "possession_order":
        possession_on = form_date(ctx, "possession_date")
        summary = f"Possession order: possession to be given on {when(possession_on)}."
    step(ctx, action, outcome, " ".join(p for p in (summary, text(ctx, "notes")) if p))
    end_action(ctx.session, case, action, outcome, at=ctx.now, by=ctx.actor)
    channel = tell(ctx, case, "court_possession", outcome)
    take(ctx, "outcome", "possession_date", "notes")
    return {"outcome": outcome, "reporter_told": channel}
