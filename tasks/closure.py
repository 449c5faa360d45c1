"""Closure and new incidents: close with a reason and a retention date; record incidents.

Closing a case ends the other processes still running for it (an evidence request waiting
for a reminder date, a legal action's review, a referral being chased), so nothing writes to
the reporter, a partner or an officer about a closed case. Each is cancelled the way a manager
cancels one (``engine.control.cancel``: open tasks cancelled, audited with the reason). Case
Reviews and complaints carry their own references and go on.
"""

from __future__ import annotations

from typing import Any

from cases.operations import add_incident, close_case
from cases.records import IncidentSource
from engine import control
from engine.handlers import ServiceContext

from .common import case_of, pop_text, setting
from .registry import handlers

CLOSED_REASON = "The case was closed"


@handlers.register("closure.close_case")
def close(ctx: ServiceContext) -> dict[str, Any]:
    """Close the case; it is kept for the retention period in force at closure."""
    case = case_of(ctx)
    close_case(ctx.session, case, at=ctx.now, reason=ctx.data["closure_reason"],
               retention_years=int(setting(ctx, "retention_years")), by=ctx.actor)
    pop_text(ctx, "summary")
    ended = _end_other_processes(ctx)
    return {"retention_until": case.retention_until.isoformat() if case.retention_until
            else None, "processes_ended": ended}


def _end_other_processes(ctx: ServiceContext) -> list[str]:
    """Cancel the case's other running processes; return their process ids, oldest first."""
    from .wiring import build_engine

    engine = build_engine()
    others = [row for row in engine.instances_for(ctx.session, ctx.business_key)
              if row.id != ctx.instance_id]
    for row in others:
        control.cancel(engine, ctx.session, row.id, ctx.actor, CLOSED_REASON)
    return [row.process_id for row in others]


@handlers.register("incidents.record_incident")
def record_incident(ctx: ServiceContext) -> dict[str, Any]:
    """A new incident sent to the running case becomes part of its record."""
    payload = ctx.data.pop("new_incident", None) or {}
    if payload.get("incident_id"):  # already recorded by whoever sent the message
        return {"incident_id": payload["incident_id"]}
    incident = add_incident(ctx.session, case_of(ctx), payload, at=ctx.now,
                            source=IncidentSource.NEW_INCIDENT)
    return {"incident_id": incident.id}
