"""Formal complaints (promise 8), with the timescales of the Ombudsmen's complaint handling codes.

Process ``asb_complaint`` (bpmn/complaint.bpmn), one instance per complaint, business key its
own reference (``CMP-2027-0001``). Stage 1: acknowledged within 5 working days, answered
within 10 working days of the acknowledgement; stage 2 on request: acknowledged within 5,
answered within 20; each stage may be extended once by up to 10 working days with the reason
given to the complainant. The final letter gives the Ombudsman route (templates/_ombudsman.html
names both Ombudsmen and how to reach them). Timescales are the council setting
``complaint_timescales_working_days``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.challenge import (
    Complaint,
    ComplaintOutcome,
    ComplaintStage,
    ComplaintStatus,
    audit,
    complaint_by_reference,
    create_complaint,
)
from cases.config import get_setting
from cases.operations import reporter_of
from cases.records import CaseDataInvalid
from engine import clock
from engine.handlers import ServiceContext
from engine.models import HumanTask, TaskStatus
from engine.runtime import CaseEngine

from .case_review import channel_of, linked_case, routing_of, signatory, start_elsewhere, write_to
from .common import case_of, iso, moment, pop_text, setting, working_days_after
from .registry import handlers

COMPLAINT_PROCESS = "asb_complaint"
# How long the complainant has to ask for stage 2: setting complaint_escalation_working_days.
RESPONSE_TASKS = ("respond_to_complaint", "respond_stage_two")


def timescale(session: Session, key: str, at: datetime) -> int:
    """A complaint timescale (working days) in force at ``at``."""
    return int(get_setting(session, "complaint_timescales_working_days", at=at)[key])


def make_complaint(
    session: Session, engine: CaseEngine, *, complainant: Mapping[str, Any], about: str,
    outcome_sought: str | None = None, council_home: bool = False,
    case_reference: str | None = None, received_at: datetime | None = None, actor: str,
) -> Complaint:
    """Record a complaint and start ``asb_complaint`` for it (``CaseDataInvalid`` if refused).

    ``complainant``: ``name``, ``phone``, ``email``, ``address``, ``contact_preferences``;
    ``council_home``: the complaint is about the council as the complainant's landlord.
    """
    received = received_at or clock.now()
    case = linked_case(session, case_reference)
    row = create_complaint(session, {
        "complainant": complainant, "about": about, "outcome_sought": outcome_sought,
        "council_home": council_home}, case=case, received_at=received, by=actor)
    data = {"complaint_reference": row.reference, **routing_of(session, case),
            "received_at": iso(row.received_at)}
    engine.start(session, COMPLAINT_PROCESS, row.reference, data, actor=actor)
    return row


@handlers.register("complaints.apply_from_case")
def apply_from_case(ctx: ServiceContext) -> dict[str, Any]:
    """A ``complaint`` message sent to a case: the case's reporter complains about it."""
    payload = ctx.data.pop("complaint", None) or {}
    case = case_of(ctx)
    person, party = reporter_of(ctx.session, case)
    complainant = payload.get("complainant") or {
        "name": person.name, "phone": person.phone, "email": person.email,
        "address": person.address, "contact_preferences": party.contact_preferences or {}}
    received = moment(payload["received_at"]) if payload.get("received_at") else ctx.now
    row = start_elsewhere(ctx, lambda engine: make_complaint(
        ctx.session, engine,
        complainant={k: v for k, v in complainant.items() if v is not None},
        about=payload.get("about") or payload.get("description") or "",
        outcome_sought=payload.get("outcome_sought"),
        council_home=bool(payload.get("council_home", False)), case_reference=case.reference,
        received_at=received, actor=ctx.actor))
    return {"complaint_reference": row.reference}


def _open_stage_of(complaint: Complaint, *, acknowledged: bool) -> ComplaintStage:
    stage = complaint.current
    if complaint.status not in (ComplaintStatus.STAGE_ONE, ComplaintStatus.STAGE_TWO) \
            or stage is None or stage.responded_at is not None:
        raise CaseDataInvalid("reference", "no answer to this complaint is awaited")
    if acknowledged and stage.acknowledged_at is None:
        raise CaseDataInvalid("reference", "acknowledge the complaint first")
    return stage


def check_extension(session: Session, complaint: Complaint, days: Any, reason: Any,
                    at: datetime) -> tuple[ComplaintStage, int, str]:
    """An extension is allowed once per stage, up to the maximum, with a reason."""
    stage = _open_stage_of(complaint, acknowledged=True)
    most = timescale(session, "extension_max", at)
    errors = {}
    if stage.extended_days is not None:
        errors["days"] = f"stage {stage.stage} has already been extended once"
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= most:
        errors["days"] = f"must be a whole number of working days from 1 to {most}"
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        errors["reason"] = "give the reason the complainant will be told (up to 2000 characters)"
    if errors:
        raise CaseDataInvalid(errors)
    return stage, int(days), " ".join(str(reason).split())


def extend_complaint(session: Session, engine: CaseEngine, reference: str, *, days: int,
                     reason: str, actor: str) -> ComplaintStage:
    """Extend the open stage's answer date once (message ``complaint_extension``)."""
    complaint = complaint_by_reference(session, reference)
    stage, days, reason = check_extension(session, complaint, days, reason, clock.now())
    stored = engine.send_message(session, reference, "complaint_extension",
                                 {"days": days, "reason": reason}, actor=actor)
    if stored.delivered_at is None or stage.extended_days != days:
        # Nobody waited, or the step failed (an incident): nothing may look extended.
        raise CaseDataInvalid("reference", "the extension could not be recorded")
    return stage


def escalate_complaint(session: Session, engine: CaseEngine, reference: str, *, reason: str,
                       actor: str) -> Complaint:
    """The complainant asks for stage 2 within the window (message ``complaint_escalated``)."""
    complaint = complaint_by_reference(session, reference)
    now = clock.now()
    stage = complaint.current
    if complaint.status is not ComplaintStatus.AWAITING_ESCALATION or stage is None:
        raise CaseDataInvalid("reference", "this complaint cannot go to stage 2 now")
    if stage.escalation_deadline_at is not None and now > stage.escalation_deadline_at:
        raise CaseDataInvalid("reference", "the time to ask for stage 2 has passed")
    if not isinstance(reason, str) or not reason.strip():
        raise CaseDataInvalid("reason", "say why the complainant is still unhappy")
    complaint.escalated_at, complaint.escalation_reason = now, reason.strip()
    stored = engine.send_message(session, reference, "complaint_escalated", {}, actor=actor)
    if stored.delivered_at is None or complaint.status is not ComplaintStatus.STAGE_TWO:
        raise CaseDataInvalid("reference", "this complaint cannot go to stage 2 now")
    audit(session, at=now, actor=actor, action="escalated", reference=reference)
    return complaint


# -- handlers -------------------------------------------------------------------------------

def complaint_of(ctx: ServiceContext) -> Complaint:
    return complaint_by_reference(ctx.session, ctx.business_key)


def tell(ctx: ServiceContext, complaint: Complaint, template: str, **extra: Any) -> str:
    """Write to the complainant, signed by whoever handled the step."""
    officer = signatory(ctx, ctx.actor, "complaints team")
    stage = complaint.current
    facts = {"stage": stage.stage if stage else 1, "received_at": complaint.received_at,
             "council_home": complaint.council_home}
    return channel_of(write_to(
        ctx, reference=complaint.reference, person=complaint.complainant,
        prefs=complaint.contact_preferences, template=template, extra={**facts, **extra},
        officer=officer, phone_officer=ctx.data.get("case_officer")))


@handlers.register("complaints.open_stage")
def open_stage(ctx: ServiceContext) -> dict[str, Any]:
    """Open stage 1 (on receipt) or stage 2 (on escalation) with its acknowledgement date."""
    complaint = complaint_of(ctx)
    number = len(complaint.stages) + 1
    start = complaint.received_at if number == 1 else complaint.escalated_at or ctx.now
    due = working_days_after(ctx, start, timescale(
        ctx.session, f"stage{number}_acknowledge", start))
    complaint.stages.append(ComplaintStage(stage=number, opened_at=ctx.now,
                                           acknowledge_due_at=due))
    complaint.status = ComplaintStatus.STAGE_ONE if number == 1 else ComplaintStatus.STAGE_TWO
    ctx.data["complaint_stage"], ctx.data["acknowledge_due"] = number, iso(due)
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="stage_opened",
          reference=complaint.reference, stage=number, acknowledge_due=iso(due))
    return {"stage": number, "acknowledge_due": iso(due)}


@handlers.register("complaints.acknowledge")
def acknowledge(ctx: ServiceContext) -> dict[str, Any]:
    """Acknowledge the stage with our understanding of the complaint and the answer date."""
    complaint = complaint_of(ctx)
    stage = _open_stage_of(complaint, acknowledged=False)
    answer = timescale(ctx.session, f"stage{stage.stage}_answer", ctx.now)
    stage.acknowledged_at, stage.acknowledged_by = ctx.now, ctx.actor
    stage.understanding = str(ctx.data["understanding"]).strip()
    stage.response_due_at = working_days_after(ctx, ctx.now, answer)
    ctx.data["response_due"] = iso(stage.response_due_at)
    channel = tell(ctx, complaint, "complaint_acknowledgement", understanding=stage.understanding,
                   response_due=stage.response_due_at,
                   in_time=ctx.now <= stage.acknowledge_due_at)
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="acknowledged",
          reference=complaint.reference, stage=stage.stage, channel=channel,
          in_time=ctx.now <= stage.acknowledge_due_at)
    pop_text(ctx, "understanding")
    return {"response_due": ctx.data["response_due"], "channel": channel}


@handlers.register("complaints.extend")
def extend(ctx: ServiceContext) -> dict[str, Any]:
    """Move the answer date once, tell the complainant why, and move the open task's due."""
    payload = ctx.data.pop("complaint_extension", None) or {}
    complaint = complaint_of(ctx)
    stage, days, reason = check_extension(ctx.session, complaint, payload.get("days"),
                                          payload.get("reason"), ctx.now)
    assert stage.response_due_at is not None
    stage.response_due_at = working_days_after(ctx, stage.response_due_at, days)
    stage.extended_days, stage.extension_reason, stage.extended_at = days, reason, ctx.now
    for task in ctx.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == ctx.instance_id, HumanTask.state == TaskStatus.OPEN,
            HumanTask.name.in_(RESPONSE_TASKS))):
        task.due_at = stage.response_due_at
    ctx.data["response_due"] = iso(stage.response_due_at)
    channel = tell(ctx, complaint, "complaint_extension", reason=reason, days=days,
                   response_due=stage.response_due_at)
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="extended",
          reference=complaint.reference, stage=stage.stage, days=days,
          response_due=iso(stage.response_due_at), channel=channel)
    return {"response_due": iso(stage.response_due_at), "channel": channel}


def _record_answer(ctx: ServiceContext, complaint: Complaint) -> ComplaintStage:
    stage = _open_stage_of(complaint, acknowledged=True)
    stage.responded_at, stage.responded_by = ctx.now, ctx.actor
    stage.outcome = ComplaintOutcome(ctx.data["outcome"])
    stage.response = str(ctx.data["response"]).strip()
    stage.remedy = str(ctx.data.get("remedy") or "").strip() or None
    pop_text(ctx, "response", "remedy")
    return stage


def _answer_facts(stage: ComplaintStage, ctx: ServiceContext) -> dict[str, Any]:
    assert stage.response_due_at is not None
    return {"outcome": str(stage.outcome), "response": stage.response,
            "remedy": stage.remedy or "", "in_time": ctx.now <= stage.response_due_at}


@handlers.register("complaints.respond")
def respond(ctx: ServiceContext) -> dict[str, Any]:
    """The stage 1 answer, with how to ask for stage 2 and by when."""
    complaint = complaint_of(ctx)
    stage = _record_answer(ctx, complaint)
    stage.escalation_deadline_at = working_days_after(
        ctx, ctx.now, int(setting(ctx, "complaint_escalation_working_days")))
    complaint.status = ComplaintStatus.AWAITING_ESCALATION
    ctx.data["escalation_deadline"] = iso(stage.escalation_deadline_at)
    facts = _answer_facts(stage, ctx)
    channel = tell(ctx, complaint, "complaint_response", **facts,
                   escalation_deadline=stage.escalation_deadline_at)
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="answered",
          reference=complaint.reference, stage=1, outcome=facts["outcome"],
          in_time=facts["in_time"], channel=channel)
    return {"outcome": facts["outcome"], "channel": channel}


@handlers.register("complaints.close")
def close_after_stage_one(ctx: ServiceContext) -> dict[str, Any]:
    """No request for stage 2 came within the window: the complaint closes at stage 1."""
    complaint = complaint_of(ctx)
    complaint.status, complaint.closed_at, complaint.closed_after_stage = (
        ComplaintStatus.CLOSED, ctx.now, 1)
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="closed",
          reference=complaint.reference, after_stage=1)
    return {"closed_after_stage": 1}


@handlers.register("complaints.final_response")
def final_response(ctx: ServiceContext) -> dict[str, Any]:
    """The stage 2 answer: the council's final word, with the Ombudsman route."""
    complaint = complaint_of(ctx)
    stage = _record_answer(ctx, complaint)
    complaint.status, complaint.closed_at, complaint.closed_after_stage = (
        ComplaintStatus.CLOSED, ctx.now, 2)
    facts = _answer_facts(stage, ctx)
    channel = tell(ctx, complaint, "complaint_final", **facts)
    audit(ctx.session, at=ctx.now, actor=ctx.actor, action="answered",
          reference=complaint.reference, stage=2, outcome=facts["outcome"],
          in_time=facts["in_time"], channel=channel)
    return {"outcome": facts["outcome"], "channel": channel}
