"""Early legal action: a warning letter, an acceptable behaviour agreement (ABA), and a
Community Protection Warning (CPW) then Notice (CPN) (docs/stages/legal_informal.md).

Each tool is its own stage diagram (bpmn/legal_warning.bpmn, legal_aba.bpmn,
legal_community_protection.bpmn). These handlers keep the legal record (cases/legal.py) in
step with the diagram and tell the reporter at each major step, in words that say nothing
about the person acted against beyond what the officer chose to add. Statutory preconditions
are checked again here, against the record: a diagram that is re-drawn, or a clock that is
wrong, still cannot issue a Community Protection Notice before the warning's time to comply
has passed.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cases.audit import AuditRecord, record
from cases.legal import (
    LegalAction,
    LegalStep,
    LegalTool,
    end_action,
    open_action,
    record_step,
)
from cases.operations import reporter_of
from cases.outbox import MessageChannel, enqueue
from cases.records import Case, CaseDataInvalid, Person
from engine.errors import FormInvalid
from engine.handlers import ServiceContext

from .common import case_of, iso, moment, refuse_as_form, setting, working_days_after
from .notifications import tell_reporter
from .notify.letters import BEHAVIOUR_DESCRIPTIONS, ReporterDetailsInLetter, reported_person_context
from .registry import handlers
from .stages import register_stage
from .warning import reported_people, warning_letter

LONDON = ZoneInfo("Europe/London")
# The review intervals are council settings (legal_warning_review_working_days,
# aba_review_interval_days); an agreement keeps the interval in force when it was signed,
# and one signed before that was recorded keeps the statutory guidance's four weeks.
ABA_REVIEW_DAYS = 28
ABA_DEFAULT_MONTHS = 6         # how long an agreement lasts when the officer does not say
ABA_REVIEW_HOUR = time(9, 0)   # reviews fall due at 9am London time on the review day
CPN_APPEAL_DAYS = 21           # s46 of the 2014 Act: 21 days, beginning with the day of issue
# The law and practice, not council choices.
ADULT_AGE = 18                 # under 18: a parent or guardian is present at the signing
CPN_MIN_AGE = 16               # s43: no warning or notice to anyone under 16
CPN_PRECONDITION = "warning_precondition_met"   # the issue_cpn form's field for refusals

register_stage("asb_legal_warning", "Send a warning letter",
               "A warning letter to a reported person, approved by a team leader, then a "
               "review of the behaviour.", "legal", single=True)
register_stage("asb_legal_aba", "Agree an acceptable behaviour agreement",
               "A voluntary written agreement with a reported person, reviewed every four "
               "weeks until it ends.", "legal", single=True)
register_stage("asb_legal_community_protection", "Community Protection Warning and Notice",
               "A written warning with time to comply, then a notice that can be appealed "
               "within 21 days.", "legal", single=True)


# -- shared -----------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in London, in UTC: when a day-counted period ends."""
    return datetime.combine(day, time(0), LONDON).astimezone(UTC)


def london_day(at: datetime) -> date:
    return at.astimezone(LONDON).date()


def review_time(day: date) -> datetime:
    """When a review on ``day`` falls due: 9am London time, summer or winter."""
    return datetime.combine(day, ABA_REVIEW_HOUR, LONDON).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def respondent_of(ctx: ServiceContext, case: Case, field: str = "respondent") -> Person:
    """The reported person the officer named, matched to the case file by name."""
    wanted = " ".join(str(ctx.data.get(field) or "").split()).casefold()
    people = reported_people(ctx.session, case)
    found = [p for p in people if " ".join(p.name.split()).casefold() == wanted]
    if len(found) == 1:
        return found[0]
    if found:
        raise CaseDataInvalid(field, "more than one reported person has this name: make the "
                                     "names on the case file distinct first")
    if not people:
        raise CaseDataInvalid(field, "add the person to the case as a reported person first")
    raise CaseDataInvalid(field, "must be a reported person on this case: "
                          + ", ".join(p.name for p in people))


def action_of(ctx: ServiceContext, case: Case, tool: LegalTool) -> LegalAction:
    """This stage's legal action, from the id the workflow keeps."""
    action = ctx.session.get(LegalAction, int(ctx.data.get("legal_action_id") or 0))
    if action is None or action.case_id != case.id or action.tool is not tool:
        raise CaseDataInvalid("legal_action", "this stage's legal action is not on the case")
    return action


def step(ctx: ServiceContext, case: Case, action: LegalAction, name: str, *,
         summary: str = "", due_at: datetime | None = None) -> LegalStep:
    """Record a dated step and audit it (without its free text, which is personal)."""
    row = record_step(ctx.session, action, name, at=ctx.now, by=ctx.actor, summary=summary,
                      due_at=due_at)
    record(ctx.session, AuditRecord(
        at=ctx.now, actor=ctx.actor, action="legal.step", object_type="legal_action",
        object_id=str(action.id), case_reference=case.reference, task_name=ctx.task_name,
        summary={"legal_action": action.id, "tool": str(action.tool), "step": name,
                 "due_at": iso(due_at) if due_at else None}))
    return row


def finish(ctx: ServiceContext, case: Case, action: LegalAction, outcome: str) -> None:
    end_action(ctx.session, case, action, outcome, at=ctx.now, by=ctx.actor)


def tell(ctx: ServiceContext, case: Case, template: str, **extra: Any) -> str:
    """Tell the reporter; the officer's optional words go in as ``note``."""
    note = str(ctx.data.pop("reporter_note", "") or extra.pop("note", "") or "").strip()
    message = tell_reporter(ctx, case, template, {**extra, "note": note})
    return str(message.channel) if message else "phone"


def take(ctx: ServiceContext, *keys: str) -> dict[str, Any]:
    """Take form answers out of the workflow data once the legal record holds them."""
    return {k: ctx.data.pop(k) for k in keys if k in ctx.data}


def text(value: Any) -> str:
    return str(value or "").strip()


# -- the warning letter ------------------------------------------------------------------------


def _mentions_reporter(ctx: ServiceContext, case: Case, wording: str) -> bool:
    """Whether the officer's wording would be refused in a letter to the reported person."""
    reporter, _party = reporter_of(ctx.session, case)
    facts = {"case_reference": case.reference, "reported_person": {"name": "-"},
             "behaviour_summary": wording,
             "reporter": {"name": reporter.name, "address": reporter.address,
                          "phone": reporter.phone, "email": reporter.email,
                          "postcode": reporter.postcode},
             "reporter_descriptions": [i.description for i in case.incidents]}
    try:
        reported_person_context(facts)
    except ReporterDetailsInLetter:
        return True
    return False


def _warning_draft(ctx: ServiceContext, case: Case, person: Person) -> dict[str, Any]:
    """Check the draft as the letter builder will, field by field, and return it."""
    errors: dict[str, str] = {}
    if not text(person.address):
        errors["respondent"] = ("has no postal address on the case file: add it so that the "
                                "letter can be sent")
    ticked = ctx.data.get("behaviours") or {}
    codes = [code for code in BEHAVIOUR_DESCRIPTIONS if ticked.get(code)]
    if not codes:
        errors["behaviours"] = "tick at least one kind of behaviour"
    for field in ("behaviour_to_stop", "consequences", "period"):
        wording = text(ctx.data.get(field))
        if wording and _mentions_reporter(ctx, case, wording):
            errors[field] = ("mentions something about the reporter: reword it in general "
                             "terms")
    if errors:
        raise CaseDataInvalid(errors)
    return {"person_id": person.id, "behaviours": codes,
            "behaviour_to_stop": text(ctx.data.get("behaviour_to_stop")),
            "consequences": text(ctx.data.get("consequences")),
            "period": text(ctx.data.get("period")),
            "reporter_note": text(ctx.data.get("reporter_note")), "drafted_by": ctx.actor}


@handlers.register("legal_warning.record_draft")
def warning_record_draft(ctx: ServiceContext) -> dict[str, Any]:
    """Check the draft and keep it on the legal record (a redraft replaces the last one)."""
    case = case_of(ctx)
    with refuse_as_form():
        person = respondent_of(ctx, case)
        draft = _warning_draft(ctx, case, person)
    if ctx.data.get("legal_action_id"):
        action = action_of(ctx, case, LegalTool.WARNING_LETTER)
        action.respondent, action.details = person.name, draft
        name = "redrafted"
    else:
        action = open_action(ctx.session, case, LegalTool.WARNING_LETTER, at=ctx.now,
                             by=ctx.actor, respondent=person.name, details=draft)
        name = "drafted"
    step(ctx, case, action, name)
    ctx.data["legal_action_id"] = action.id
    take(ctx, "respondent", "behaviours", "behaviour_to_stop", "consequences", "period",
         "reporter_note")
    return {"legal_action": action.id}


@handlers.register("legal_warning.record_return")
def warning_record_return(ctx: ServiceContext) -> dict[str, Any]:
    """The team leader sent the draft back: their reason goes on the record for the officer."""
    case = case_of(ctx)
    action = action_of(ctx, case, LegalTool.WARNING_LETTER)
    step(ctx, case, action, "returned", summary=text(take(ctx, "reason").get("reason")))
    return {"returned": True}


@handlers.register("legal_warning.withdraw")
def warning_withdraw(ctx: ServiceContext) -> dict[str, Any]:
    """The team leader decided the letter is not to be sent: the action ends unsent."""
    case = case_of(ctx)
    action = action_of(ctx, case, LegalTool.WARNING_LETTER)
    step(ctx, case, action, "not_sent", summary=text(take(ctx, "reason").get("reason")))
    finish(ctx, case, action, "not_sent")
    return {"outcome": "not_sent"}


@handlers.register("legal_warning.send")
def warning_send(ctx: ServiceContext) -> dict[str, Any]:
    """Send the approved letter to the reported person and tell the reporter it went."""
    case = case_of(ctx)
    action = action_of(ctx, case, LegalTool.WARNING_LETTER)
    draft = action.details
    if ctx.actor == draft.get("drafted_by"):
        raise FormInvalid({"decision": "you drafted this letter: another team leader must "
                                       "approve it"})
    person = ctx.session.get(Person, int(draft["person_id"]))
    if person is None or not text(person.address):
        raise FormInvalid({"decision": "the person has no postal address on the case file "
                                       "now: return the letter for changes"})
    summary = "\n\n".join(p for p in (draft["behaviour_to_stop"], draft["consequences"]) if p)
    try:
        letter = warning_letter(ctx.session, case, person, behaviours=draft["behaviours"],
                                behaviour_summary=summary, period=draft["period"], now=ctx.now)
    except ReporterDetailsInLetter as exc:
        raise FormInvalid({"decision": f"{exc}: return the letter for changes"}) from exc
    enqueue(ctx.session, case_reference=case.reference, recipient_role="reported_person",
            channel=MessageChannel.LETTER, to_address=text(person.address),
            subject=letter.letter.subject, body_text=letter.letter.text,
            body_html=letter.letter.html, pdf=letter.pdf,
            template="warning_to_reported_person", created_at=ctx.now)
    review_due = working_days_after(ctx, ctx.now,
                                    int(setting(ctx, "legal_warning_review_working_days")))
    step(ctx, case, action, "approved")
    step(ctx, case, action, "sent", due_at=review_due)
    ctx.data["review_due"] = iso(review_due)
    take(ctx, "reason")
    channel = tell(ctx, case, "legal_warning_sent", review_on=review_due,
                   note=draft.get("reporter_note") or "")
    return {"review_due": iso(review_due), "channel": channel}


@handlers.register("legal_warning.record_review")
def warning_record_review(ctx: ServiceContext) -> dict[str, Any]:
    """End the warning with what happened since; if it continued, suggest the next tool."""
    case = case_of(ctx)
    action = action_of(ctx, case, LegalTool.WARNING_LETTER)
    outcome = str(ctx.data["behaviour_since"])
    step(ctx, case, action, "reviewed", summary=text(take(ctx, "notes").get("notes")))
    finish(ctx, case, action, outcome)
    result: dict[str, Any] = {"outcome": outcome,
                              "channel": tell(ctx, case, "legal_warning_reviewed",
                                              outcome=outcome)}
    if outcome == "continued":
        result["suggested_next"] = "acceptable_behaviour_agreement or community_protection"
    return result


# -- the acceptable behaviour agreement ------------------------------------------------------


@handlers.register("legal_aba.record_draft")
def aba_record_draft(ctx: ServiceContext) -> dict[str, Any]:
    """Open the agreement on the legal record with the person, their age and the terms."""
    case = case_of(ctx)
    with refuse_as_form():
        person = respondent_of(ctx, case)
    answers = take(ctx, "respondent", "respondent_age", "terms", "length_months")
    months = int(answers.get("length_months") or ABA_DEFAULT_MONTHS)
    action = open_action(ctx.session, case, LegalTool.ACCEPTABLE_BEHAVIOUR_AGREEMENT,
                         at=ctx.now, by=ctx.actor, respondent=person.name, details={
                             "person_id": person.id, "age": int(answers["respondent_age"]),
                             "terms": list(answers["terms"]), "months": months})
    step(ctx, case, action, "drafted", summary="\n".join(answers["terms"]))
    ctx.data["legal_action_id"] = action.id
    return {"legal_action": action.id, "months": months}


def _signing_checks(ctx: ServiceContext, action: LegalAction) -> date:
    errors: dict[str, str] = {}
    signed_on = date.fromisoformat(str(ctx.data["signed_on"]))
    if signed_on > london_day(ctx.now):
        errors["signed_on"] = "cannot be in the future"
    elif signed_on < london_day(action.started_at):
        errors["signed_on"] = "cannot be before the agreement was drafted"
    present = ctx.data.get("parties_present") or {}
    if not present.get("respondent"):
        errors["parties_present"] = "the person signing the agreement must be there"
    elif int(action.details["age"]) < ADULT_AGE and not present.get("parent_or_guardian"):
        errors["parties_present"] = "they are under 18: a parent or guardian must be there"
    if errors:
        raise CaseDataInvalid(errors)
    return signed_on


@handlers.register("legal_aba.record_signature")
def aba_record_signature(ctx: ServiceContext) -> dict[str, Any]:
    """Record the signing (reviews every 4 weeks from that day) or the refusal to sign."""
    case = case_of(ctx)
    action = action_of(ctx, case, LegalTool.ACCEPTABLE_BEHAVIOUR_AGREEMENT)
    if not ctx.data.get("signed"):
        step(ctx, case, action, "not_signed", summary=text(ctx.data.get("notes")))
        finish(ctx, case, action, "not_signed")
        ctx.data["aba_signed"] = False
        take(ctx, "notes", "signed_on", "parties_present")
        return {"signed": False, "channel": tell(ctx, case, "legal_aba_ended",
                                                 outcome="not_signed")}
    with refuse_as_form():
        signed_on = _signing_checks(ctx, action)
    ends = review_time(add_months(signed_on, int(action.details["months"])))
    # The council's interval when the agreement is signed holds for its whole life.
    interval = int(setting(ctx, "aba_review_interval_days"))
    first_review = min(review_time(signed_on + timedelta(days=interval)), ends)
    present = sorted(k for k, v in (ctx.data.get("parties_present") or {}).items() if v)
    action.details = {**action.details, "signed_on": signed_on.isoformat(),
                      "ends_on": london_day(ends).isoformat(), "present": present,
                      "review_days": interval}
    step(ctx, case, action, "signed", due_at=ends,
         summary=text(ctx.data.get("notes")) or "Present: " + ", ".join(present))
    ctx.data.update(aba_signed=True, aba_ends=iso(ends), next_review_due=iso(first_review))
    take(ctx, "notes", "signed_on", "parties_present")
    channel = tell(ctx, case, "legal_aba_signed", ends_on=london_day(ends),
                   review_weeks=interval // 7)
    return {"signed": True, "ends": iso(ends), "next_review_due": iso(first_review),
            "channel": channel}


@handlers.register("legal_aba.record_review")
def aba_record_review(ctx: ServiceContext) -> dict[str, Any]:
    """A four-weekly review: broken ends it, the review on the end date completes it."""
    case = case_of(ctx)
    action = action_of(ctx, case, LegalTool.ACCEPTABLE_BEHAVIOUR_AGREEMENT)
    scheduled, ends = moment(ctx.data["next_review_due"]), moment(ctx.data["aba_ends"])
    notes = text(take(ctx, "notes").get("notes"))
    if not ctx.data.get("complying"):
        status, following = "breached", None
    elif scheduled >= ends:
        status, following = "completed", None
    else:
        # Counted from the scheduled day, not the day the officer got to it: the rhythm holds.
        interval = int(action.details.get("review_days") or ABA_REVIEW_DAYS)
        following = review_time(london_day(scheduled) + timedelta(days=interval))
        status, following = "continuing", min(following, ends)
    step(ctx, case, action, "reviewed" if status != "breached" else "breached",
         summary=notes, due_at=following)
    ctx.data["aba_status"] = status
    result: dict[str, Any] = {"status": status}
    if following is None:
        finish(ctx, case, action, status)
        result["channel"] = tell(ctx, case, "legal_aba_ended", outcome=status)
        if status == "breached":
            result["suggested_next"] = "community_protection"
    else:
        ctx.data["next_review_due"] = iso(following)
        ctx.data.pop("reporter_note", None)   # only an ending is news for the reporter
        result["next_review_due"] = iso(following)
    return result
