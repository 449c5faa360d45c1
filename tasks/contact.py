"""First contact: record the contact, or the missed deadline for the SLA figures."""

from __future__ import annotations

from typing import Any

from cases.operations import record_breach, record_contact
from cases.records import ContactKind
from engine.handlers import ServiceContext

from .common import case_of, moment, pop_text, refuse_as_form
from .registry import handlers


@handlers.register("first_contact.record_breach")
def record_missed_deadline(ctx: ServiceContext) -> dict[str, Any]:
    """Note on the case that first contact did not happen by the deadline."""
    first = record_breach(ctx.session, case_of(ctx), ctx.now)
    return {"breach_recorded": first}


@handlers.register("first_contact.record_contact")
def record_first_contact(ctx: ServiceContext) -> dict[str, Any]:
    """Log the first contact from the officer's form; the case knows if it was in time."""
    case = case_of(ctx)
    at = moment(ctx.data.get("contacted_at") or ctx.now)
    with refuse_as_form(at="contacted_at"):
        record_contact(ctx.session, case, at=at, by=ctx.actor, method=ctx.data["method"],
                       kind=ContactKind.FIRST_CONTACT, summary=ctx.data["summary"])
    pop_text(ctx, "summary")
    return {"in_time": case.first_contact_in_time}
