"""Intake: link open cases about the same place or person, and spot repeat victims."""

from __future__ import annotations

from typing import Any

from cases.operations import (
    find_related_open_cases,
    is_repeat_victim,
    link_cases,
    mark_repeat_victim,
)
from engine.handlers import ServiceContext

from .common import case_of, moment, setting
from .registry import handlers


@handlers.register("intake.link_related_cases")
def link_related_cases(ctx: ServiceContext) -> dict[str, Any]:
    """Link every open case about the same address, postcode or reported person.

    The links live on the case record only: a street with hundreds of open cases would
    otherwise copy their references into every task of the workflow's stored state.
    """
    case = case_of(ctx)
    linked = 0
    for other, reason in find_related_open_cases(ctx.session, case):
        link_cases(ctx.session, case, other, reason, at=ctx.now)
        linked += 1
    ctx.data.pop("linked_cases", None)
    return {"linked": linked}


@handlers.register("intake.check_repeat_victim")
def check_repeat_victim(ctx: ServiceContext) -> dict[str, Any]:
    """Mark a repeat victim from the case history (the rules in force when the report came)."""
    case = case_of(ctx)
    received = moment(ctx.data["received_at"])
    rules = setting(ctx, "repeat_victim_rules", received)
    found = bool(ctx.data.get("repeat_victim")) or is_repeat_victim(
        ctx.session, case, rules, received)
    if found:
        ctx.data["repeat_victim"] = True
        mark_repeat_victim(ctx.session, case, at=ctx.now)
    return {"repeat_victim": found}
