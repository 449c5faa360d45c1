"""Triage: the first-contact deadline from the priority, and the officer's risk assessment."""

from __future__ import annotations

from typing import Any

from cases.operations import record_assessment, set_priority
from cases.records import AssessmentKind
from engine.handlers import ServiceContext

from .common import case_of, iso, moment, pop_text, setting, working_days_after
from .registry import handlers

ASSESSMENT_FIELDS = ("harm", "vulnerability", "community_impact", "child_at_risk",
                     "vulnerable_adult", "raise_priority", "notes")


def _deadline(ctx: ServiceContext, priority: int) -> Any:
    received = moment(ctx.data["received_at"])
    days = setting(ctx, "first_contact_working_days", received)[str(priority)]
    return working_days_after(ctx, received, int(days))


@handlers.register("triage.set_deadline")
def set_deadline(ctx: ServiceContext) -> dict[str, Any]:
    """Record the decided priority and the first-contact deadline (rules at receipt)."""
    case = case_of(ctx)
    priority = int(ctx.data["priority"])
    if case.priority == 1:  # a re-opened or re-triaged case is never silently lowered
        priority = 1
    due = _deadline(ctx, priority)
    set_priority(ctx.session, case, priority, due, by=ctx.actor, reason="triage decision",
                 at=ctx.now)
    ctx.data["priority"] = priority
    ctx.data["first_contact_due"] = iso(due)
    ctx.data["safeguarding"] = bool(ctx.data.get("child_at_risk")
                                    or ctx.data.get("vulnerable_adult")
                                    or ctx.data.get("safeguarding"))
    case.safeguarding = case.safeguarding or ctx.data["safeguarding"]
    return {"priority": priority, "first_contact_due": iso(due)}


@handlers.register("triage.record_assessment")
def record_officer_assessment(ctx: ServiceContext) -> dict[str, Any]:
    """Store the officer's assessment; a raised risk makes priority 1 and moves the deadline."""
    case = case_of(ctx)
    form = {k: ctx.data[k] for k in ASSESSMENT_FIELDS if k in ctx.data}
    raise_it = bool(form.get("raise_priority") or form.get("child_at_risk")
                    or form.get("vulnerable_adult"))
    priority = 1 if raise_it else None
    due = _deadline(ctx, 1) if raise_it and case.priority != 1 else None
    kind = AssessmentKind.REVIEW if ctx.task_name == "record_reviewed_assessment" else (
        AssessmentKind.OFFICER)
    record_assessment(ctx.session, case, form, at=ctx.now, by=ctx.actor, kind=kind,
                      priority=priority if due is not None else None,
                      first_contact_due_at=due)
    if due is not None:
        ctx.data["priority"] = 1
        ctx.data["first_contact_due"] = iso(due)
    if form.get("child_at_risk") or form.get("vulnerable_adult"):
        ctx.data["safeguarding"] = True
        case.safeguarding = True
    pop_text(ctx, "notes")
    return {"priority": case.priority, "raised": due is not None}
