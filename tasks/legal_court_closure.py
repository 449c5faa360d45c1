"""Closure notice then closure order (Anti-social Behaviour, Crime and Policing Act 2014, s76-s82).

A notice lasts 24 hours, or 48 when signed by the chief executive or their designate (s77);
the magistrates' court must hear the application for an order within 48 clock hours of the
notice's service, Christmas Day disregarded (s80(3)-(4), ``legal_clock``); the court may
adjourn for up to 14 days (s81(3)); an order lasts at most 3 months (s80(6)) and extensions
bring it to at most 6 months in all (s82). Each limit is refused in plain words on the field
the officer filled in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cases.legal import LegalAction, LegalTool, end_action, open_action
from cases.records import Case
from engine.handlers import ServiceContext

from .common import case_of, iso, moment, setting
from .legal_clock import (
    closure_hearing_deadline,
    closure_notice_ends,
    months_after,
    working_days_before,
)
from .legal_court_common import (
    ACTION_ID,
    action_of,
    form_date,
    form_moment,
    has_step,
    local_day,
    not_in_future,
    refuse,
    step,
    take,
    tell,
    text,
    when,
)
from .registry import handlers

TOOL = LegalTool.CLOSURE
ORDER_MAX_MONTHS = 3              # s80(6), and each extension (s82)
ORDER_TOTAL_MAX_MONTHS = 6        # s82
ADJOURNMENT_MAX_DAYS = 14         # s81(3)
# When the officer is asked about an extension: setting closure_extension_review_working_days.


@handlers.register("closure_order.record_notice")
def record_notice(ctx: ServiceContext) -> dict[str, Any]:
    """The closure notice as prepared: 24 hours, or 48 with the senior sign-off (s77(2))."""
    hours = 48 if ctx.data["notice_hours"] == "48_hours" else 24
    signer = text(ctx, "senior_sign_off_by")
    if hours == 48 and not signer:
        refuse("senior_sign_off_by", "A 48-hour closure notice must be signed by the chief "
               "executive or the person they designated (Anti-social Behaviour, Crime and "
               "Policing Act 2014, s77(2)): give their name, or choose 24 hours.")
    if not (ctx.data.get("consultation_done") and ctx.data.get("occupiers_informed")):
        refuse("consultation_done", "A closure notice may be issued only after the consultation "
               "and the efforts to inform the occupiers the law requires (s76(6)-(7)).")
    case = case_of(ctx)
    action = open_action(
        ctx.session, case, TOOL, at=ctx.now, by=ctx.actor,
        respondent=text(ctx, "premises_address"),
        details={"premises_kind": str(ctx.data["premises_kind"]), "notice_hours": hours,
                 "senior_sign_off_by": signer if hours == 48 else None,
                 "grounds": text(ctx, "grounds"), "consulted": text(ctx, "consulted"),
                 "exempted": text(ctx, "exempted")})
    step(ctx, action, "notice_prepared", f"{hours}-hour closure notice prepared"
         + (f", signed off by {signer}." if hours == 48 else "."))
    ctx.data[ACTION_ID] = action.id
    ctx.data["notice_hours"] = hours
    take(ctx, "premises_address", "grounds", "consulted", "exempted", "senior_sign_off_by")
    return {"legal_action": action.id, "notice_hours": hours}


@handlers.register("closure_order.record_service")
def record_service(ctx: ServiceContext) -> dict[str, Any]:
    """Service of the notice starts the 48-hour clock for the court hearing."""
    case, action = action_of(ctx, TOOL)
    served_at = form_moment(ctx, "served_at")
    not_in_future(ctx, "served_at", served_at)
    deadline = moment(closure_hearing_deadline(served_at))
    notice_ends = closure_notice_ends(served_at, int(ctx.data["notice_hours"]))
    step(ctx, action, "notice_served",
         f"Served {when(served_at)} ({str(ctx.data['served_how']).replace('_', ' ')}); the "
         f"court must hear the application by {when(deadline)}; the notice ends "
         f"{when(notice_ends)}.", due_at=deadline)
    ctx.data.update(notice_served_at=iso(served_at), hearing_deadline=iso(deadline),
                    notice_ends_at=iso(notice_ends))
    channel = tell(ctx, case, "court_closure", "notice_served", notice_ends_at=notice_ends,
                   hearing_deadline=deadline)
    return {"hearing_deadline": iso(deadline), "reporter_told": channel}


def _too_late(deadline_iso: str) -> str:
    return ("The magistrates' court must hear the application not later than 48 hours after "
            "the closure notice was served, Christmas Day not counted (Anti-social Behaviour, "
            f"Crime and Policing Act 2014, s80(3)-(4)): by {when(moment(deadline_iso))}.")


@handlers.register("closure_order.record_application")
def record_application(ctx: ServiceContext) -> dict[str, Any]:
    """The application and its listing, which must fall within the 48 hours."""
    _case, action = action_of(ctx, TOOL)
    applied_at, hearing_at = form_moment(ctx, "applied_at"), form_moment(ctx, "hearing_at")
    not_in_future(ctx, "applied_at", applied_at)
    if hearing_at > moment(ctx.data["hearing_deadline"]):
        refuse("hearing_at", _too_late(ctx.data["hearing_deadline"])
               + " Ask the court for an earlier hearing.")
    if hearing_at < moment(ctx.data["notice_served_at"]):
        refuse("hearing_at", "The hearing cannot be before the notice was served.")
    step(ctx, action, "order_applied", f"Applied to {text(ctx, 'court_name')} at "
         f"{when(applied_at)}; hearing {when(hearing_at)}.", due_at=hearing_at)
    ctx.data["hearing_at"] = iso(hearing_at)
    take(ctx, "court_name")
    return {"hearing_at": iso(hearing_at)}


def _order_dates(ctx: ServiceContext, made_at_iso: str, total: int) -> dict[str, Any]:
    """The order's end and when to ask about extending it (not before now)."""
    expires = months_after(made_at_iso, total)
    review = max(working_days_before(
        expires, int(setting(ctx, "closure_extension_review_working_days"))), ctx.now)
    return {"order_expires_at": iso(expires), "order_months_total": total,
            "extension_review_at": iso(min(review, expires))}


def _order_made(ctx: ServiceContext, action: LegalAction, heard_iso: str) -> dict[str, Any]:
    months = ctx.data.get("order_months")
    if months is None:
        refuse("order_months", "this field is required")
    if int(months) > ORDER_MAX_MONTHS:
        refuse("order_months", f"A closure order can last at most {ORDER_MAX_MONTHS} months "
               f"(s80(6)); it can be extended later, up to {ORDER_TOTAL_MAX_MONTHS} months in "
               "all (s82).")
    dates = _order_dates(ctx, heard_iso, int(months))
    action.details = {**action.details, "order": {"made_at": heard_iso, "months": int(months),
                                                  "terms": text(ctx, "order_terms")}}
    expires = moment(dates["order_expires_at"])
    step(ctx, action, "order_made", f"Closure order for {months} month(s), until "
         f"{when(expires)}.", due_at=expires)
    ctx.data.update(dates)
    return {"months": int(months), "expires_at": expires}


def _no_order(ctx: ServiceContext, case: Case, action: LegalAction, outcome: str
              ) -> dict[str, Any]:
    """Refused or withdrawn: the action ends without a closure order."""
    step(ctx, action, outcome, f"Application {outcome}; no closure order.")
    end_action(ctx.session, case, action, outcome, at=ctx.now, by=ctx.actor)
    return {"channel": tell(ctx, case, "court_closure", outcome)}


def _adjourned(ctx: ServiceContext, action: LegalAction, heard_at: datetime) -> dict[str, Any]:
    adjourned_to = form_moment(ctx, "adjourned_to")
    latest = heard_at + timedelta(days=ADJOURNMENT_MAX_DAYS)
    if not heard_at < adjourned_to <= latest:
        refuse("adjourned_to", f"The court may adjourn the hearing for not more than "
               f"{ADJOURNMENT_MAX_DAYS} days (s81(3)): a time after {when(heard_at)} and by "
               f"{when(latest)}.")
    step(ctx, action, "hearing_adjourned", f"Adjourned to {when(adjourned_to)}.",
         due_at=adjourned_to)
    ctx.data["hearing_at"] = iso(adjourned_to)
    return {"channel": None}   # the notice simply continues meanwhile


@handlers.register("closure_order.record_hearing")
def record_hearing(ctx: ServiceContext) -> dict[str, Any]:
    """Heard in time (the first hearing), then order made, adjourned, refused or withdrawn."""
    case, action = action_of(ctx, TOOL)
    outcome = str(ctx.data["outcome"])
    if outcome == "withdrawn":      # including an application not heard in time
        result = _no_order(ctx, case, action, outcome)
    else:
        heard_at = form_moment(ctx, "heard_at")
        not_in_future(ctx, "heard_at", heard_at)
        first = not has_step(ctx, action, "hearing_adjourned")
        if first and heard_at > moment(ctx.data["hearing_deadline"]):
            refuse("heard_at", _too_late(ctx.data["hearing_deadline"]) + " A hearing after that "
                   "cannot make a closure order: record the application as withdrawn.")
        if outcome == "order_made":
            made = _order_made(ctx, action, iso(heard_at))
            result = {"channel": tell(ctx, case, "court_closure", outcome, **made)}
        elif outcome == "adjourned":
            result = _adjourned(ctx, action, heard_at)
        else:
            result = _no_order(ctx, case, action, outcome)
    ctx.data["hearing_outcome"] = outcome
    take(ctx, "outcome", "heard_at", "order_months", "adjourned_to", "order_terms")
    return {"outcome": outcome, "reporter_told": result["channel"]}


@handlers.register("closure_order.record_extension")
def record_extension(ctx: ServiceContext) -> dict[str, Any]:
    """The court's extension (each up to 3 months, at most 6 in all), or none."""
    case, action = action_of(ctx, TOOL)
    total = int(ctx.data["order_months_total"])
    if not ctx.data.get("extend"):
        step(ctx, action, "extension_not_sought", text(ctx, "reason"))
        ctx.data["order_extended"] = False
        take(ctx, "extend", "reason")
        return {"extended": False}
    months = ctx.data.get("extension_months")
    if months is None:
        refuse("extension_months", "this field is required")
    extended_on = form_date(ctx, "extended_on")
    not_in_future(ctx, "extended_on", extended_on)
    if int(months) > ORDER_MAX_MONTHS:
        refuse("extension_months", f"The court may extend a closure order by at most "
               f"{ORDER_MAX_MONTHS} months at a time (s82).")
    if total + int(months) > ORDER_TOTAL_MAX_MONTHS:
        refuse("extension_months", f"A closure order cannot last more than "
               f"{ORDER_TOTAL_MAX_MONTHS} months in all (s82): it already runs for {total}, so "
               f"it can be extended by at most {ORDER_TOTAL_MAX_MONTHS - total} more.")
    if extended_on > local_day(moment(ctx.data["order_expires_at"])):
        refuse("extended_on", "An order can only be extended before it ends.")
    dates = _order_dates(ctx, action.details["order"]["made_at"], total + int(months))
    expires = moment(dates["order_expires_at"])
    step(ctx, action, "order_extended", f"Extended on {when(extended_on)} by {months} month(s), "
         f"to {total + int(months)} in all, until {when(expires)}.", due_at=expires)
    ctx.data.update(dates, order_extended=True)
    channel = tell(ctx, case, "court_closure", "extended", expires_at=expires)
    take(ctx, "extend", "extension_months", "extended_on", "reason")
    return {"extended": True, "months_total": total + int(months), "reporter_told": channel}


@handlers.register("closure_order.record_end")
def record_end(ctx: ServiceContext) -> dict[str, Any]:
    """The order has run its course."""
    case, action = action_of(ctx, TOOL)
    total = int(ctx.data["order_months_total"])
    step(ctx, action, "order_ended", f"The closure order ended after {total} month(s).")
    end_action(ctx.session, case, action, "order_expired", at=ctx.now, by=ctx.actor)
    channel = tell(ctx, case, "court_closure", "ended")
    return {"outcome": "order_expired", "months_total": total, "reporter_told": channel}
