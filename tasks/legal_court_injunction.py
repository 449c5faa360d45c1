"""Civil injunction handlers (Anti-social Behaviour, Crime and Policing Act 2014, Part 1).

The respondent must be aged 10 or over (s1(1)); an application against someone under 18 goes
to the youth court (s1(8)) and only after the youth offending team has been consulted (s14(1)).
The diagram routes an under-18 respondent through the consultation; ``record_application``
refuses the application all the same when the case record holds no consultation, so a changed
diagram or a respondent's birthday cannot skip the law. Witnesses are prepared one by one
(promise 4), and the reporter, when a witness, is told what to expect.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cases.evidence import evidence_of
from cases.legal import LegalAction, LegalTool, end_action, open_action
from cases.legal_court import (
    add_witnesses,
    find_unprepared,
    record_preparation,
    unprepared,
)
from engine.handlers import ServiceContext

from .common import case_of, iso, moment, refuse_as_form
from .legal_clock import add_months, end_of_day
from .legal_court_common import (
    ACTION_ID,
    action_of,
    form_date,
    form_moment,
    has_step,
    lines,
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

TOOL = LegalTool.CIVIL_INJUNCTION
MIN_AGE = 10                 # s1(1)
ADULT_AGE = 18               # s1(8) youth court, s14(1) youth offending team
YOUTH_MAX_MONTHS = 12        # s1(6): an injunction against an under-18 lasts at most 12 months
MEASURES = {"screens": "a screen, so that you do not have to see the other side",
            "video_link": "giving your evidence by video link from another room",
            "evidence_in_private": "clearing the public gallery while you give evidence",
            "intermediary": "an intermediary to help with communication",
            "separate_waiting_area": "a separate waiting area",
            "supporter_in_court": "a supporter sitting with you"}
ACTIONS = {"reported_to_police": "The breach has been reported to the police.",
           "arrested_under_power_of_arrest": "The police arrested the person under the "
                                             "injunction's power of arrest.",
           "committal_application": "We are asking the court to deal with the breach.",
           "warning_given": "A formal warning has been given about the breach.",
           "no_further_action": "We have decided to take no further action on this breach."}


def age_on(born: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def respondent_age(action: LegalAction, day: date) -> int:
    """The respondent's age on ``day``: from the date of birth, else the age given."""
    born = action.details.get("date_of_birth")
    return age_on(date.fromisoformat(born), day) if born else int(action.details["age_given"])


def _age_from_form(ctx: ServiceContext) -> tuple[int, str, date | None]:
    today = local_day(ctx.now)
    born = optional_date(ctx, "date_of_birth")
    if born is not None:
        if born >= today:
            refuse("date_of_birth", "must be in the past")
        return age_on(born, today), "date_of_birth", born
    if ctx.data.get("age") is None:
        refuse("date_of_birth", "give the respondent's date of birth, or their age if it is not "
               "known")
    return int(ctx.data["age"]), "age", None


@handlers.register("injunction.record_case")
def record_case(ctx: ServiceContext) -> dict[str, Any]:
    """Open the injunction on the case; refuse under-10s and the wrong court."""
    age, field, born = _age_from_form(ctx)
    if age < MIN_AGE:
        refuse(field, f"An injunction can only be granted against someone aged {MIN_AGE} or over "
               f"(Anti-social Behaviour, Crime and Policing Act 2014, s1(1)); the respondent is "
               f"{age}.")
    under_18 = age < ADULT_AGE
    court = str(ctx.data["court"])
    if under_18 and court != "youth_court":
        refuse("court", "The respondent is under 18: the application must go to the youth court "
               "(s1(8)).")
    if not under_18 and court == "youth_court":
        refuse("court", "The youth court hears applications against people under 18 only: "
               "choose the county court or the High Court (s1(8)).")
    positive, supervisor = lines(ctx, "positive_requirements"), text(ctx, "requirement_supervisor")
    if positive and not supervisor:
        refuse("requirement_supervisor", "Name the person or organisation who will supervise the "
               "positive requirements (s3(1)).")
    case = case_of(ctx)
    action = open_action(
        ctx.session, case, TOOL, at=ctx.now, by=ctx.actor, respondent=text(ctx, "respondent_name"),
        details={"date_of_birth": born.isoformat() if born else None,
                 "age_given": None if born else age, "court": court,
                 "grounds": text(ctx, "grounds"), "terms_sought": lines(ctx, "terms_sought"),
                 "positive_requirements": positive, "requirement_supervisor": supervisor or None,
                 "housing_related": bool(ctx.data.get("housing_related"))})
    step(ctx, action, "case_prepared",
         f"Respondent aged {age}; application to the {court.replace('_', ' ')}.")
    ctx.data[ACTION_ID] = action.id
    ctx.data["respondent_under_18"] = under_18
    take(ctx, "respondent_name", "date_of_birth", "age", "grounds", "terms_sought",
         "positive_requirements", "requirement_supervisor")
    return {"legal_action": action.id, "under_18": under_18}


@handlers.register("injunction.record_yot_consultation")
def record_yot_consultation(ctx: ServiceContext) -> dict[str, Any]:
    """The youth offending team's consultation, as s14(1) requires for an under-18."""
    _case, action = action_of(ctx, TOOL)
    consulted_on = form_date(ctx, "consulted_on")
    not_in_future(ctx, "consulted_on", consulted_on)
    step(ctx, action, "yot_consulted",
         f"Youth offending team consulted on {when(consulted_on)} ({text(ctx, 'yot_officer')}): "
         f"{text(ctx, 'yot_view')}")
    take(ctx, "yot_officer", "yot_view")
    return {"consulted_on": consulted_on.isoformat()}


@handlers.register("injunction.record_bundle")
def record_bundle(ctx: ServiceContext) -> dict[str, Any]:
    """The evidence bundle: documents listed and, if chosen, the case's uploaded evidence."""
    case, action = action_of(ctx, TOOL)
    documents = lines(ctx, "documents")
    items = list(ctx.session.scalars(evidence_of(case))) if ctx.data.get(
        "include_case_evidence") else []
    if not documents and not items:
        refuse("documents", "The bundle is empty: list its documents"
               + (" (no evidence has been uploaded to the case yet)."
                  if ctx.data.get("include_case_evidence") else
                  ", or include the evidence uploaded to the case."))
    action.details = {**action.details, "bundle": {"documents": documents,
                                                   "evidence_ids": [i.id for i in items]}}
    step(ctx, action, "evidence_bundle",
         f"{len(documents)} document(s) listed and {len(items)} piece(s) of the case's evidence.")
    take(ctx, "documents")
    return {"documents": len(documents), "evidence": len(items)}


@handlers.register("injunction.record_statements")
def record_statements(ctx: ServiceContext) -> dict[str, Any]:
    """The witnesses whose statements were taken; each is then prepared for court."""
    case, action = action_of(ctx, TOOL)
    taken_on = form_date(ctx, "statements_taken_on")
    not_in_future(ctx, "statements_taken_on", taken_on)
    with refuse_as_form():
        rows = add_witnesses(ctx.session, case, action, names=lines(ctx, "witnesses"),
                             reporter=bool(ctx.data.get("reporter_is_witness")),
                             statements_taken_on=taken_on, at=ctx.now, by=ctx.actor)
    step(ctx, action, "statements_taken",
         f"{len(rows)} witness statement(s) taken by {when(taken_on)}"
         + (", including the reporter's." if any(w.is_reporter for w in rows) else "."))
    waiting = len(unprepared(ctx.session, action))
    ctx.data["witnesses_to_prepare"] = waiting
    take(ctx, "witnesses")
    return {"witnesses": len(rows), "to_prepare": waiting}


@handlers.register("injunction.record_witness_support")
def record_witness_support(ctx: ServiceContext) -> dict[str, Any]:
    """One witness prepared and supported; the reporter gets "being a witness" in writing."""
    case, action = action_of(ctx, TOOL)
    chosen = sorted(k for k, v in (ctx.data.get("special_measures") or {}).items() if v)
    with refuse_as_form():
        witness = find_unprepared(ctx.session, action, text(ctx, "witness"))
        record_preparation(ctx.session, case, witness,
                           support_offered=text(ctx, "support_offered"),
                           special_measures=chosen,
                           court_familiarisation=bool(ctx.data.get("court_familiarisation")),
                           at=ctx.now, by=ctx.actor)
    who = "The reporter" if witness.is_reporter else "A witness"
    step(ctx, action, "witness_prepared",
         f"{who} was prepared for court; special measures: {', '.join(chosen) or 'none'}; "
         f"court visit {'offered' if witness.court_familiarisation else 'not offered'}.")
    channel = None
    if witness.is_reporter:
        channel = tell(ctx, case, "court_witness",
                       support_offered=witness.support_offered or "",
                       special_measures=[MEASURES[m] for m in witness.special_measures],
                       court_familiarisation=bool(witness.court_familiarisation))
    waiting = len(unprepared(ctx.session, action))
    ctx.data["witnesses_to_prepare"] = waiting
    take(ctx, "witness", "support_offered", "special_measures", "court_familiarisation",
         "told_what_to_expect")
    return {"witness_id": witness.id, "is_reporter": witness.is_reporter,
            "to_prepare": waiting, "reporter_told": channel}


@handlers.register("injunction.record_application")
def record_application(ctx: ServiceContext) -> dict[str, Any]:
    """The application to court; never for an under-18 without the youth offending team."""
    case, action = action_of(ctx, TOOL)
    applied_on = form_date(ctx, "application_date")
    hearing_at = form_moment(ctx, "hearing_at")
    not_in_future(ctx, "application_date", applied_on)
    if respondent_age(action, applied_on) < ADULT_AGE and not has_step(ctx, action,
                                                                       "yot_consulted"):
        refuse("application_date", "The respondent is under 18: the youth offending team must be "
               "consulted before the application is made (Anti-social Behaviour, Crime and "
               "Policing Act 2014, s14(1)). Record the consultation first.")
    if local_day(hearing_at) < applied_on:
        refuse("hearing_at", "The hearing cannot be before the application was made.")
    if unprepared(ctx.session, action):
        refuse("application_date", "Every witness must be prepared for court first.")
    step(ctx, action, "applied", f"Applied to {text(ctx, 'court_name')} on {when(applied_on)}"
         f"{' without notice' if ctx.data.get('without_notice') else ''}; hearing "
         f"{when(hearing_at)}.", due_at=hearing_at)
    ctx.data["hearing_at"] = iso(hearing_at)
    channel = tell(ctx, case, "court_injunction", "applied", hearing_at=hearing_at)
    return {"hearing_at": iso(hearing_at), "reporter_told": channel}


def _granted(ctx: ServiceContext, action: LegalAction, heard_on: date) -> dict[str, Any]:
    expires_on = form_date(ctx, "order_expires_on")
    terms = lines(ctx, "terms_granted")
    if not terms:
        refuse("terms_granted", "List the terms the court granted.")
    if expires_on <= heard_on:
        refuse("order_expires_on", "The injunction must end after the day it was granted.")
    limit = add_months(heard_on, YOUTH_MAX_MONTHS)
    if respondent_age(action, heard_on) < ADULT_AGE and expires_on > limit:
        refuse("order_expires_on", "An injunction against someone under 18 can last at most 12 "
               f"months (s1(6)): until {when(limit)} at the latest.")
    expires_at = end_of_day(expires_on)
    arrest = bool(ctx.data.get("power_of_arrest"))
    action.details = {**action.details, "order": {
        "granted_on": heard_on.isoformat(), "expires_on": expires_on.isoformat(),
        "terms": terms, "power_of_arrest": arrest}}
    step(ctx, action, "order_granted", f"Injunction granted until {when(expires_on)}"
         f"{' with a power of arrest' if arrest else ''}.", due_at=expires_at)
    ctx.data["order_expires_at"] = iso(expires_at)
    return {"expires_on": expires_on, "terms": terms, "power_of_arrest": arrest}


@handlers.register("injunction.record_hearing")
def record_hearing(ctx: ServiceContext) -> dict[str, Any]:
    """Granted (with its end and terms), adjourned (a new date), refused or withdrawn."""
    case, action = action_of(ctx, TOOL)
    outcome = str(ctx.data["outcome"])
    hearing_at = moment(ctx.data["hearing_at"])
    extra: dict[str, Any] = {}
    if outcome == "granted":
        extra = _granted(ctx, action, local_day(hearing_at))
    elif outcome == "adjourned":
        new = form_moment(ctx, "new_hearing_at")
        if new <= hearing_at:
            refuse("new_hearing_at", "The adjourned hearing must be after the one adjourned.")
        step(ctx, action, "adjourned", f"Hearing of {when(hearing_at)} adjourned to {when(new)}.",
             due_at=new)
        ctx.data["hearing_at"] = iso(new)
        extra = {"hearing_at": new}
    else:
        step(ctx, action, outcome, text(ctx, "notes") or f"Injunction {outcome}.")
        end_action(ctx.session, case, action, outcome, at=ctx.now, by=ctx.actor)
    ctx.data["hearing_outcome"] = outcome
    channel = tell(ctx, case, "court_injunction", outcome, **extra)
    take(ctx, "outcome", "order_expires_on", "terms_granted", "power_of_arrest",
         "new_hearing_at", "notes")
    return {"outcome": outcome, "reporter_told": channel}


@handlers.register("injunction.record_breach")
def record_breach(ctx: ServiceContext) -> dict[str, Any]:
    """A breach (the message ``injunction_breach``'s payload and the officer's account)."""
    case, action = action_of(ctx, TOOL)
    payload = ctx.data.get("injunction_breach") or {}
    breach_on = form_date(ctx, "breach_on")
    not_in_future(ctx, "breach_on", breach_on)
    taken = str(ctx.data["action_taken"])
    reported = str(payload.get("summary") or "").strip() if isinstance(payload, dict) else ""
    step(ctx, action, "breach", f"Breach on {when(breach_on)}: {text(ctx, 'what_happened')}"
         + (f" Reported: {reported}" if reported else "") + f" Action: {ACTIONS[taken]}")
    details = text(ctx, "action_details")
    channel = tell(ctx, case, "court_injunction", "breach",
                   action=" ".join(p for p in (ACTIONS[taken], details) if p))
    take(ctx, "injunction_breach", "breach_on", "what_happened", "action_taken",
         "action_details")
    return {"action_taken": taken, "reporter_told": channel}


@handlers.register("injunction.end_order")
def end_order(ctx: ServiceContext) -> dict[str, Any]:
    """The injunction reached its end date: the action ends as granted then expired."""
    case, action = action_of(ctx, TOOL)
    step(ctx, action, "order_expired", "The injunction has ended.")
    end_action(ctx.session, case, action, "granted_expired", at=ctx.now, by=ctx.actor)
    channel = tell(ctx, case, "court_injunction", "ended")
    return {"outcome": "granted_expired", "reporter_told": channel}
