"""Action plan and updates: the agreed cadence drives a recurring "update the reporter" task."""

from __future__ import annotations

from typing import Any

from cases.operations import record_contact, record_plan, set_next_update
from cases.records import ContactKind
from engine.handlers import ServiceContext

from .common import case_of, iso, pop_text, setting, working_days_after
from .notifications import tell_reporter
from .registry import handlers


@handlers.register("plan.record_plan")
def record_action_plan(ctx: ServiceContext) -> dict[str, Any]:
    """Store the plan agreed with the reporter and the update frequency they chose."""
    case = case_of(ctx)
    frequency = ctx.data["update_frequency"]
    cadence = int(setting(ctx, "update_cadence_choices")[frequency])
    record_plan(ctx.session, case, at=ctx.now, by=ctx.actor, actions=list(ctx.data["actions"]),
                update_frequency=frequency,
                agreed_with_reporter=bool(ctx.data["agreed_with_reporter"]),
                update_cadence_days=cadence)
    ctx.data["update_cadence_days"] = cadence
    pop_text(ctx, "actions")
    return {"update_cadence_days": cadence}


@handlers.register("updates.schedule_next")
def schedule_next(ctx: ServiceContext) -> dict[str, Any]:
    """The next update falls due the agreed number of working days from now."""
    case = case_of(ctx)
    cadence = int(ctx.data.get("update_cadence_days")
                  or setting(ctx, "update_cadence_working_days")[str(case.priority or 2)])
    due = working_days_after(ctx, ctx.now, cadence)
    set_next_update(ctx.session, case, due)
    ctx.data["next_update_due"] = iso(due)
    return {"next_update_due": iso(due)}


@handlers.register("updates.record_update")
def record_update(ctx: ServiceContext) -> dict[str, Any]:
    """Log the update the officer gave; a written one goes out by the reporter's safe channel."""
    case = case_of(ctx)
    summary = ctx.data["summary"]
    record_contact(ctx.session, case, at=ctx.now, by=ctx.actor, method=ctx.data["method"],
                   kind=ContactKind.UPDATE, summary=summary)
    if ctx.data["method"] in ("email", "letter"):  # a call or a visit needs no letter
        tell_reporter(ctx, case, "update", {"summary": summary})
    pop_text(ctx, "summary")
    return {"logged": True}
