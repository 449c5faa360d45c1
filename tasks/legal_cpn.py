"""Community Protection Warning, then Notice (s43-s46 of the Anti-social Behaviour, Crime and
Policing Act 2014), for bpmn/legal_community_protection.bpmn (docs/stages/legal_informal.md).

The diagram waits for the warning's time to comply before it offers the notice; the notice
handler checks again, against the legal record, that a written warning was served, that its
time to comply has passed and that it was not complied with. Defence in depth: a diagram a
process owner re-draws, or a step run early, cannot issue a notice the law does not allow.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from cases.legal import LegalAction, LegalStatus, LegalTool, open_action, steps_of
from cases.records import Case, CaseDataInvalid, Person
from engine.handlers import ServiceContext

from .common import case_of, iso, refuse_as_form
from .legal_informal import (
    CPN_APPEAL_DAYS,
    CPN_MIN_AGE,
    CPN_PRECONDITION,
    action_of,
    day_start,
    finish,
    london_day,
    respondent_of,
    step,
    take,
    tell,
    text,
)
from .notify.letters import long_date, long_datetime
from .registry import handlers

TOOL = LegalTool.COMMUNITY_PROTECTION


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _subject_checks(ctx: ServiceContext, person: Person) -> None:
    """s43: the warning and the notice are only for someone aged 16 or over, or a body."""
    field = "respondent_16_or_body"
    if not ctx.data.get(field):
        raise CaseDataInvalid(field, "a Community Protection Warning can only be given to "
                                     "someone aged 16 or over, or to a body such as a "
                                     "business (section 43 of the 2014 Act)")
    if person.date_of_birth and _age(person.date_of_birth, london_day(ctx.now)) < CPN_MIN_AGE:
        raise CaseDataInvalid(field, "the case file gives a date of birth that makes them "
                                     "under 16: no warning or notice can be given to them")


@handlers.register("legal_cpn.serve_warning")
def serve_warning(ctx: ServiceContext) -> dict[str, Any]:
    """Record the written warning as served; the time to comply runs from today."""
    case = case_of(ctx)
    with refuse_as_form():
        person = respondent_of(ctx, case)
        _subject_checks(ctx, person)
    answers = take(ctx, "respondent", "behaviour", "requirements", "time_to_comply_days")
    days = int(answers["time_to_comply_days"])
    # The time ends at midnight at the end of the last day (London), counting from tomorrow.
    comply_by = day_start(london_day(ctx.now) + timedelta(days=days + 1))
    action = open_action(ctx.session, case, TOOL, at=ctx.now, by=ctx.actor,
                         respondent=person.name, details={
                             "person_id": person.id, "behaviour": text(answers["behaviour"]),
                             "warning_requirements": list(answers["requirements"]),
                             "time_to_comply_days": days})
    step(ctx, case, action, "cpw_served", due_at=comply_by,
         summary="\n".join(answers["requirements"]))
    ctx.data.update(legal_action_id=action.id, comply_by=iso(comply_by))
    channel = tell(ctx, case, "legal_cpw_served", comply_last_day=_last_day(comply_by))
    return {"legal_action": action.id, "comply_by": iso(comply_by), "channel": channel}


def _last_day(period_end: datetime) -> date:
    """The last whole day of a period that ends at midnight London time."""
    return london_day(period_end) - timedelta(days=1)


@handlers.register("legal_cpn.record_check")
def record_check(ctx: ServiceContext) -> dict[str, Any]:
    """After the time to comply: complied ends the action; not complied opens the notice."""
    case = case_of(ctx)
    action = action_of(ctx, case, TOOL)
    complied = bool(ctx.data.get("warning_complied"))
    step(ctx, case, action, "cpw_complied" if complied else "cpw_not_complied",
         summary=text(take(ctx, "evidence").get("evidence")))
    if not complied:
        ctx.data.pop("reporter_note", None)   # the notice, not the check, is the news
        return {"complied": False}
    finish(ctx, case, action, "complied_with_warning")
    return {"complied": True,
            "channel": tell(ctx, case, "legal_cpn_ended", outcome="complied_with_warning")}


def served_warning(ctx: ServiceContext, case: Case) -> LegalAction:
    """The open action whose warning allows a notice now; refuse on the form otherwise."""
    action = ctx.session.get(LegalAction, int(ctx.data.get("legal_action_id") or 0))
    if action is None or action.case_id != case.id or action.tool is not TOOL \
            or action.status is not LegalStatus.OPEN:
        raise CaseDataInvalid(CPN_PRECONDITION, "there is no open Community Protection "
                              "Warning on this case: a written warning must be given first")
    steps = steps_of(ctx.session, action)
    served = [s for s in steps if s.step == "cpw_served" and s.due_at is not None]
    if not served:
        raise CaseDataInvalid(CPN_PRECONDITION, "no written warning is recorded as served on "
                              "this case: a notice can only follow a written warning")
    comply_by = served[-1].due_at
    assert comply_by is not None
    if ctx.now < comply_by:
        raise CaseDataInvalid(CPN_PRECONDITION, (
            f"the warning's time to comply runs to the end of {long_date(_last_day(comply_by))}:"
            f" the notice cannot be issued before {long_datetime(comply_by)}"))
    if not any(s.step == "cpw_not_complied" and s.id > served[-1].id for s in steps):
        raise CaseDataInvalid(CPN_PRECONDITION, "record first that the warning was not "
                                                "complied with")
    return action


@handlers.register("legal_cpn.issue_notice")
def issue_notice(ctx: ServiceContext) -> dict[str, Any]:
    """Issue the notice, if the record allows it; the 21-day appeal window starts today."""
    case = case_of(ctx)
    with refuse_as_form():
        action = served_warning(ctx, case)
    answers = take(ctx, "requirements", "authorised_officer")
    # 21 days beginning with the day of issue: the window closes at midnight after day 21.
    appeal_ends = day_start(london_day(ctx.now) + timedelta(days=CPN_APPEAL_DAYS))
    action.details = {**action.details, "notice_requirements": list(answers["requirements"]),
                      "authorised_officer": text(answers["authorised_officer"]),
                      "notice_issued_at": iso(ctx.now)}
    step(ctx, case, action, "cpn_issued", due_at=appeal_ends,
         summary="\n".join(answers["requirements"]))
    ctx.data["appeal_ends"] = iso(appeal_ends)
    channel = tell(ctx, case, "legal_cpn_issued", appeal_last_day=_last_day(appeal_ends))
    return {"appeal_ends": iso(appeal_ends), "channel": channel}


@handlers.register("legal_cpn.record_appeal")
def record_appeal(ctx: ServiceContext) -> dict[str, Any]:
    """Record whether the notice was appealed and what the court decided; quashed ends it."""
    case = case_of(ctx)
    action = action_of(ctx, case, TOOL)
    appealed = bool(ctx.data.get("appealed"))
    decision = str(ctx.data.get("appeal_outcome") or "") if appealed else ""
    step(ctx, case, action, f"appeal_{decision}" if appealed else "no_appeal",
         summary=text(take(ctx, "notes").get("notes")))
    quashed = decision == "quashed"
    ctx.data["cpn_quashed"] = quashed
    if not quashed:
        return {"appealed": appealed, "decision": decision or None}
    finish(ctx, case, action, "quashed_on_appeal")
    return {"appealed": True, "decision": decision,
            "channel": tell(ctx, case, "legal_cpn_ended", outcome="quashed_on_appeal")}


@handlers.register("legal_cpn.record_compliance")
def record_compliance(ctx: ServiceContext) -> dict[str, Any]:
    """End the action: the notice kept, or broken with the action taken on the breach."""
    case = case_of(ctx)
    action = action_of(ctx, case, TOOL)
    if ctx.data.get("notice_complied"):
        outcome = "complied"
    else:
        outcome = f"breached_{ctx.data['breach_action']}"
    step(ctx, case, action, "cpn_complied" if outcome == "complied" else "cpn_breached",
         summary=text(take(ctx, "evidence").get("evidence")))
    finish(ctx, case, action, outcome)
    return {"outcome": outcome, "channel": tell(ctx, case, "legal_cpn_ended", outcome=outcome)}
