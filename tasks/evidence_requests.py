"""Evidence asked of the reporter, the reporter's diary, and deadlines that move with priority.

``asb_evidence_request`` (bpmn/evidence.bpmn) asks for evidence with the reason (promise 3),
chases it with reminders, has each file reviewed, and lapses after the reminders.
A diary entry sent to the case (message ``diary_entry``, an event subprocess of asb_case) is
recorded and its review stored by ``diary.record_entry`` and ``diary.record_review`` (row R).
``triage.move_deadlines`` makes a priority raised on a change of circumstances move the open
first-contact task and its timer (see ``retime_case`` for why that takes a second process).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.evidence_requests import (
    DiaryEntry,
    EvidenceRequest,
    RequestStatus,
    add_diary_entry,
    close_request,
    open_request,
    record_decision,
    record_reminder,
    requests_of,
    review_diary_entry,
    review_items,
    unreviewed_items,
)
from cases.operations import case_by_reference
from cases.records import Case, CaseDataInvalid, CaseStatus
from engine import clock
from engine.handlers import ServiceContext
from engine.models import HumanTask, ProcessInstance, TaskStatus
from engine.projection import next_timer, to_utc
from engine.runtime import CaseEngine

from .common import case_of, iso, moment, pop_text, refuse_as_form, setting, working_days_after
from .notifications import tell_reporter
from .registry import handlers
from .stages import register_stage

EVIDENCE_PROCESS = "asb_evidence_request"
DEADLINE_PROCESS = "asb_move_first_contact_deadline"
# Due date, reminder interval and number of reminders are council settings
# (evidence_due_working_days, evidence_reminder_working_days, evidence_max_reminders).
# The part 1 tasks whose due date is the first-contact deadline (docs/lifecycle.md).
FIRST_CONTACT_TASKS = ("assess_risk", "first_contact")

# What each kind of evidence is and why it helps, as the reporter reads it (promise 3).
KINDS: dict[str, tuple[str, str]] = {
    "diary_sheet": ("Diary sheets", "a note of each incident with the date, time, what "
                    "happened, who was involved and how it affected you. Notes made at the time "
                    "show the pattern of the behaviour, and formal action relies on them."),
    "photo": ("Photographs", "for example of damage, graffiti or rubbish: they show what "
              "happened, where and when."),
    "audio": ("Sound recordings", "for example of noise or shouting: they let us hear the "
              "kind, level and length of the problem for ourselves."),
    "video": ("Video recordings", "they show what happened and who was involved, where it is "
              "safe for you to record."),
    "document": ("Documents", "for example letters, messages or screenshots you have "
                 "received: they show what was said and when."),
}

register_stage(EVIDENCE_PROCESS, "Ask for evidence",
               "Ask the reporter for diary sheets, recordings or photos, saying why; reminders "
               "follow and each file received is reviewed.", "evidence")


# --- asb_evidence_request ------------------------------------------------------------------

def _request(ctx: ServiceContext, case: Case) -> EvidenceRequest:
    request = ctx.session.get(EvidenceRequest, int(ctx.data["evidence_request_id"]))
    if request is None or request.case_id != case.id:
        raise CaseDataInvalid("evidence_request_id", "is not a request on this case")
    return request


def _letter(request: EvidenceRequest, **extra: Any) -> dict[str, Any]:
    """What the request, reminder and thank-you letters say about the request."""
    kinds = [{"code": k, "label": KINDS[k][0], "why": KINDS[k][1]} for k in request.kinds]
    return {"kinds": kinds, "reason": request.reason, "message": request.message or "",
            "due": request.due_at, **extra}


def _ticked(value: Any) -> list[str]:
    """The form's checkboxes ({"photo": true, ...}) as a list of kinds (a list passes too)."""
    if isinstance(value, dict):
        return [kind for kind, ticked in value.items() if ticked]
    return list(value or [])


@handlers.register("evidence.send_request")
def send_request(ctx: ServiceContext) -> dict[str, Any]:
    """Record what the officer asks for and why, and write to the reporter with the reason."""
    case = case_of(ctx)
    if case.status is not CaseStatus.OPEN:  # closed since the stage started: ask nothing
        ctx.data["evidence_request_id"] = None
        return {"evidence_request_id": None}
    days = int(ctx.data.get("due_working_days") or setting(ctx, "evidence_due_working_days"))
    due = working_days_after(ctx, ctx.now, days)
    with refuse_as_form(due_at="due_working_days"):
        request = open_request(ctx.session, case, kinds=_ticked(ctx.data.get("kinds")),
                               reason=ctx.data.get("reason"), message=ctx.data.get("message"),
                               due_at=due, by=ctx.actor, at=ctx.now)
    message = tell_reporter(ctx, case, "evidence_request", _letter(request))
    ctx.data["evidence_request_id"] = request.id
    ctx.data["evidence_due"] = iso(due)
    ctx.data["evidence_reminders"] = 0
    ctx.data["evidence_next_check"] = iso(
        working_days_after(ctx, ctx.now, int(setting(ctx, "evidence_reminder_working_days"))))
    pop_text(ctx, "reason", "message")
    return {"evidence_request_id": request.id, "due": iso(due),
            "channel": str(message.channel) if message else "phone"}


@handlers.register("evidence.check_request")
def check_request(ctx: ServiceContext) -> dict[str, Any]:
    """Where the request stands, from the record: sets ``evidence_state`` for the gateway.

    A closed case withdraws its open request; files not yet reviewed go to review (however
    they came: a message may be missed while the officer reviews earlier files).
    """
    case = case_of(ctx)
    if ctx.data.get("evidence_request_id") is None:
        ctx.data["evidence_state"] = "withdrawn"
        return {"state": "withdrawn"}
    request = _request(ctx, case)
    if request.status is RequestStatus.OPEN and case.status is not CaseStatus.OPEN:
        close_request(ctx.session, case, request, RequestStatus.WITHDRAWN, at=ctx.now,
                      by="system")
    if request.status is not RequestStatus.OPEN:
        state = request.status.value
    elif unreviewed_items(ctx.session, case, request):
        state = "to_review"
    else:
        state = "waiting"
    ctx.data["evidence_state"] = state
    return {"state": state}


@handlers.register("evidence.chase")
def chase(ctx: ServiceContext) -> dict[str, Any]:
    """The reminder date came: remind the reporter, or let the request lapse after the last."""
    case = case_of(ctx)
    request = _request(ctx, case)
    if (request.status is not RequestStatus.OPEN or case.status is not CaseStatus.OPEN
            or unreviewed_items(ctx.session, case, request)):
        return {"action": "none"}  # evidence.check_request routes these
    if int(ctx.data.get("evidence_reminders") or 0) >= int(setting(ctx, "evidence_max_reminders")):
        close_request(ctx.session, case, request, RequestStatus.LAPSED, at=ctx.now,
                      by="system")
        return {"action": "lapsed"}
    total = record_reminder(ctx.session, case, request, at=ctx.now)
    tell_reporter(ctx, case, "evidence_reminder",
                  _letter(request, overdue=ctx.now > request.due_at))
    ctx.data["evidence_reminders"] = int(ctx.data.get("evidence_reminders") or 0) + 1
    ctx.data["evidence_next_check"] = iso(
        working_days_after(ctx, ctx.now, int(setting(ctx, "evidence_reminder_working_days"))))
    return {"action": "reminded", "reminders_sent": total}


@handlers.register("evidence.record_review")
def record_review(ctx: ServiceContext) -> dict[str, Any]:
    """Store the officer's review on each new file; thank the reporter, saying what more."""
    case = case_of(ctx)
    request = _request(ctx, case)
    more = bool(ctx.data.get("more_needed"))
    with refuse_as_form():
        rows = review_items(ctx.session, case, request, useful=bool(ctx.data.get("useful")),
                            more_needed=more, notes=ctx.data.get("notes"), by=ctx.actor,
                            at=ctx.now)
    tell_reporter(ctx, case, "evidence_thanks",
                  _letter(request, more_needed=more, what_more=ctx.data.get("what_more") or ""))
    if more:  # a fresh round of reminders for what is still to come
        ctx.data["evidence_reminders"] = 0
        ctx.data["evidence_next_check"] = iso(
            working_days_after(ctx, ctx.now, int(setting(ctx, "evidence_reminder_working_days"))))
    pop_text(ctx, "notes", "what_more")
    return {"items": [r.item_id for r in rows], "more_needed": more}


@handlers.register("evidence.record_decision")
def record_lapse_decision(ctx: ServiceContext) -> dict[str, Any]:
    """Store what the officer decided about evidence that never came."""
    case = case_of(ctx)
    request = _request(ctx, case)
    with refuse_as_form():
        record_decision(ctx.session, case, request, ctx.data.get("next_step") or "",
                        notes=ctx.data.get("notes"), at=ctx.now, by=ctx.actor)
    pop_text(ctx, "notes")
    return {"next_step": ctx.data.get("next_step")}


def evidence_added(session: Session, engine: CaseEngine, reference: str, item_id: int, *,
                   actor: str) -> bool:
    """Call after a file of evidence is added to a case: wakes the request waiting for it.

    Only sent when a request is open, so uploads nobody asked for do not pile up as
    undelivered messages. Returns whether a running request took the message.
    """
    case = case_by_reference(session, reference)
    if not requests_of(session, case, open_only=True):
        return False
    stored = engine.send_message(session, reference, "evidence_received", {"item_id": item_id},
                                 actor=actor)
    return stored.delivered_at is not None


# --- diary entries -------------------------------------------------------------------------

def receive_diary_entry(session: Session, engine: CaseEngine, reference: str,
                        payload: dict[str, Any], *, actor: str,
                        entered_by: str = "reporter") -> DiaryEntry:
    """A diary entry for an open case: recorded first (so its words stay out of workflow
    data), then sent to the running case as message ``diary_entry`` for the officer's review.
    Refused field by field (``CaseDataInvalid``) when invalid or the case is closed."""
    case = case_by_reference(session, reference)
    if case.status is not CaseStatus.OPEN:
        raise CaseDataInvalid("reference", "the case is closed: report a new incident instead")
    entry = add_diary_entry(session, case, occurred_at=payload.get("occurred_at"),
                            what_happened=payload.get("what_happened"),
                            effect=payload.get("effect"), by=entered_by, at=clock.now())
    engine.send_message(session, reference, "diary_entry", {"diary_entry_id": entry.id},
                        actor=actor)
    return entry


@handlers.register("diary.record_entry")
def record_diary_entry(ctx: ServiceContext) -> dict[str, Any]:
    """The ``diary_entry`` payload becomes a diary entry on the case (or names one already
    recorded); the payload leaves the workflow data."""
    case = case_of(ctx)
    payload = ctx.data.pop("diary_entry", None) or {}
    if payload.get("diary_entry_id"):
        entry = ctx.session.get(DiaryEntry, int(payload["diary_entry_id"]))
        if entry is None or entry.case_id != case.id:
            raise CaseDataInvalid("diary_entry_id", "is not a diary entry of this case")
    else:
        entry = add_diary_entry(ctx.session, case, occurred_at=payload.get("occurred_at"),
                                what_happened=payload.get("what_happened"),
                                effect=payload.get("effect"),
                                by=str(payload.get("entered_by") or "reporter"), at=ctx.now)
    ctx.data["diary_entry_id"] = entry.id
    return {"diary_entry_id": entry.id}


@handlers.register("diary.record_review")
def record_diary_review(ctx: ServiceContext) -> dict[str, Any]:
    """Store the officer's review of the diary entry."""
    case = case_of(ctx)
    entry = ctx.session.get(DiaryEntry, int(ctx.data["diary_entry_id"]))
    if entry is None:
        raise CaseDataInvalid("diary_entry_id", "no such diary entry")
    with refuse_as_form():
        review_diary_entry(ctx.session, case, entry, assessment=ctx.data.get("assessment"),
                           action_needed=bool(ctx.data.get("action_needed")), by=ctx.actor,
                           at=ctx.now)
    pop_text(ctx, "assessment")
    return {"diary_entry_id": entry.id, "action_needed": entry.action_needed}


# --- a raised priority moves the first-contact deadline ------------------------------------

@handlers.register("triage.move_deadlines")
def move_deadlines(ctx: ServiceContext) -> dict[str, Any]:
    """After a reviewed assessment: a priority 1 case still waiting for first contact gets
    the priority 1 deadline (from ``received_at``, rules then in force) on its open tasks and
    timer. The running case is changed by ``asb_move_first_contact_deadline``, started once
    this step is saved: a handler cannot reach the workflow it runs in."""
    case = case_of(ctx)
    if case.status is not CaseStatus.OPEN or case.priority != 1 or case.first_contact_at:
        return {"moved": False}
    days = int(setting(ctx, "first_contact_working_days", case.received_at)["1"])
    due = working_days_after(ctx, case.received_at, days)
    if case.first_contact_due_at is None or case.first_contact_due_at > due:
        case.first_contact_due_at = due  # triage.record_assessment normally did this already
    stale = ctx.session.scalars(select(HumanTask.id).where(
        HumanTask.business_key == case.reference, HumanTask.state == TaskStatus.OPEN,
        HumanTask.name.in_(FIRST_CONTACT_TASKS), HumanTask.due_at > due)).first()
    if stale is None:
        return {"moved": False}
    ctx.data["priority"], ctx.data["first_contact_due"] = 1, iso(due)
    ctx.start_process(DEADLINE_PROCESS, {"case_reference": case.reference, "priority": 1,
                                         "first_contact_due": iso(due)})
    return {"moved": True, "first_contact_due": iso(due)}


@handlers.register("triage.apply_deadline")
def apply_deadline(ctx: ServiceContext) -> dict[str, Any]:
    """Give the case's running processes the new first-contact deadline and priority."""
    values = {"first_contact_due": iso(moment(ctx.data["first_contact_due"])),
              "priority": int(ctx.data.get("priority") or 1)}
    changed = retime_case(ctx.session, ctx.business_key, values, actor=ctx.actor,
                          skip=ctx.instance_id)
    return {"instances": changed}


@cache
def _engine() -> CaseEngine:
    from .wiring import build_engine  # wiring imports every handler module, this one too

    return build_engine()


def _names(expression: str | None, keys: set[str]) -> bool:
    return bool(expression) and any(re.search(rf"\b{re.escape(k)}\b", str(expression))
                                    for k in keys)


def _retime(workflow: BpmnWorkflow, values: dict[str, Any]) -> set[str]:
    """Set ``values`` where unfinished tasks hold them and re-arm date timers reading them;
    return the names changed ("timer" when a timer moved).

    SpiffWorkflow keeps a timeDate's value from its first evaluation (internal data
    ``event_value``), so a changed variable alone never moves a waiting timer.
    """
    changed: set[str] = set()
    frontier = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
    for task in workflow.get_tasks(state=frontier):
        for key, value in values.items():
            if key in task.data and task.data[key] != value:
                task.data[key] = value
                changed.add(key)
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimeDateEventDefinition) and _names(definition.expression,
                                                                       set(values)):
            value = workflow.script_engine.evaluate(task, definition.expression)
            if task.internal_data.get("event_value") != value:
                task.internal_data["event_value"] = value
                changed.add("timer")
    return changed


def retime_case(session: Session, reference: str, values: dict[str, Any], *, actor: str,
                skip: int | None = None) -> list[int]:
    """Change deadline variables in a case's running instances, with their timers and the
    due dates of their open tasks; return the ids of the instances changed.

    ``CaseEngine.set_variables`` updates task data only: open tasks keep the due date they
    opened with and waiting timers their first value. Run this after the instance that holds
    the deadline was saved (a follow-up process), never from a step of that instance.
    """
    engine, done = _engine(), []
    for candidate in engine.instances_for(session, reference):
        if candidate.id == skip:
            continue
        row = session.scalars(select(ProcessInstance).where(
            ProcessInstance.id == candidate.id).with_for_update()).one()
        workflow = engine.load(row, session)
        changed = _retime(workflow, values)
        if not changed:
            continue
        for task_row in session.scalars(select(HumanTask).where(
                HumanTask.instance_id == row.id, HumanTask.state == TaskStatus.OPEN)):
            task = workflow.get_task_from_id(UUID(task_row.id))
            due = (task.task_spec.extensions or {}).get("properties", {}).get("due")
            if _names(due, changed):
                task_row.due_at = to_utc(workflow.script_engine.evaluate(task, due))
        row.state_json = engine.serializer.dumps(workflow)
        row.next_timer_at = next_timer(workflow)
        row.revision += 1
        row.updated_at = clock.now()
        engine.audit.instance(session, actor, "variables_changed", row,
                              summary={"changed": sorted(changed),
                                       "next_timer_at": iso(row.next_timer_at)
                                       if row.next_timer_at else None})
        done.append(row.id)
    session.flush()
    return done
