"""Closure and new incidents: close with a reason and a retention date; record incidents."""

from __future__ import annotations

from typing import Any

from cases.operations import add_incident, close_case
from cases.records import IncidentSource
from engine.handlers import ServiceContext

from .common import case_of, pop_text, setting
from .registry import handlers


@handlers.register("closure.close_case")
def close(ctx: ServiceContext) -> dict[str, Any]:
    """Close the case; it is kept for the retention period in force at closure."""
    case = case_of(ctx)
    close_case(ctx.session, case, at=ctx.now, reason=ctx.data["closure_reason"],
               retention_years=int(setting(ctx, "retention_years")), by=ctx.actor)
    pop_text(ctx, "summary")
    return {"retention_until": case.retention_until.isoformat() if case.retention_until
            else None}


@handlers.register("incidents.record_incident")
def record_incident(ctx: ServiceContext) -> dict[str, Any]:
    """A new incident sent to the running case becomes part of its record."""
    payload = ctx.data.pop("new_incident", None) or {}
    if payload.get("incident_id"):  # already recorded by whoever sent the message
        return {"incident_id": payload["incident_id"]}
    incident = add_incident(ctx.session, case_of(ctx), payload, at=ctx.now,
                            source=IncidentSource.NEW_INCIDENT)
    return {"incident_id": incident.id}
