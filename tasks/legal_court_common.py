"""What the court stages' handlers share: the legal action of a step, dates, refusals, letters.

A handler that refuses what an officer entered raises ``FormInvalid`` on the field concerned,
in plain words with the law behind it: the engine then aborts the completion and the officer
corrects the form (engine/runtime.py, ``strict``). Every refusal is decided before anything is
written, so nothing half-done is left behind.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NoReturn

from cases.legal import LegalAction, LegalStep, LegalTool, record_step, steps_of
from cases.records import Case
from engine.errors import FormInvalid
from engine.handlers import ServiceContext
from tasks.notify.letters import long_date, long_datetime

from .common import case_of, iso, moment
from .legal_clock import LONDON
from .notifications import tell_reporter

ACTION_ID = "legal_action_id"   # the workflow variable naming the stage's legal action


def refuse(field: str, message: str) -> NoReturn:
    """Refuse the completion with ``message`` on ``field``."""
    raise FormInvalid({field: message})


def action_of(ctx: ServiceContext, tool: LegalTool) -> tuple[Case, LegalAction]:
    """The case and the legal action this stage opened (its id is in the workflow data)."""
    case = case_of(ctx)
    raw = ctx.data.get(ACTION_ID)
    action = ctx.session.get(LegalAction, int(raw)) if raw is not None else None
    if action is None or action.case_id != case.id or action.tool is not tool:
        raise LookupError(f"no {tool} action of case {case.reference} in this process")
    return case, action


def has_step(ctx: ServiceContext, action: LegalAction, name: str) -> bool:
    return any(s.step == name for s in steps_of(ctx.session, action))


def last_step(ctx: ServiceContext, action: LegalAction, name: str) -> LegalStep | None:
    found = [s for s in steps_of(ctx.session, action) if s.step == name]
    return found[-1] if found else None


def step(ctx: ServiceContext, action: LegalAction, name: str, summary: str = "", *,
         at: datetime | None = None, due_at: datetime | None = None) -> LegalStep:
    """Record a dated step of the action, by the person completing the task."""
    return record_step(ctx.session, action, name, at=at or ctx.now, by=ctx.actor,
                       summary=summary, due_at=due_at)


def _raw(ctx: ServiceContext, key: str, required: bool) -> str | None:
    raw = ctx.data.get(key)
    if raw in (None, ""):
        if required:
            refuse(key, "this field is required")
        return None
    return str(raw)


def optional_date(ctx: ServiceContext, key: str, *, required: bool = False) -> date | None:
    """A date field of the form (ISO text), or None when left empty."""
    raw = _raw(ctx, key, required)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        refuse(key, "must be a date, for example 2027-03-01")


def form_date(ctx: ServiceContext, key: str) -> date:
    """A required date field of the form; refused when missing."""
    found = optional_date(ctx, key, required=True)
    assert found is not None   # _raw refused the missing value
    return found


def optional_moment(ctx: ServiceContext, key: str, *, required: bool = False
                    ) -> datetime | None:
    """A date-time field of the form as an aware datetime, or None when left empty."""
    raw = _raw(ctx, key, required)
    if raw is None:
        return None
    try:
        return moment(raw)
    except ValueError:
        refuse(key, "must be a date and time")


def form_moment(ctx: ServiceContext, key: str) -> datetime:
    """A required date-time field of the form; refused when missing."""
    found = optional_moment(ctx, key, required=True)
    assert found is not None   # _raw refused the missing value
    return found


def local_day(value: datetime) -> date:
    """The London calendar day of ``value``."""
    return value.astimezone(LONDON).date()


def not_in_future(ctx: ServiceContext, key: str, value: date | datetime) -> None:
    """Refuse a date that has not happened yet: the form records what was done."""
    today = local_day(ctx.now)
    later = (value > ctx.now) if isinstance(value, datetime) else (value > today)
    if later:
        refuse(key, "cannot be in the future: record this once it has happened")


def text(ctx: ServiceContext, key: str) -> str:
    return str(ctx.data.get(key) or "").strip()


def lines(ctx: ServiceContext, key: str) -> list[str]:
    return [str(v).strip() for v in (ctx.data.get(key) or []) if str(v).strip()]


def take(ctx: ServiceContext, *keys: str) -> None:
    """Take form fields out of the workflow data once the case record holds them."""
    for key in keys:
        ctx.data.pop(key, None)


def tell(ctx: ServiceContext, case: Case, template: str, event: str | None = None,
         **extra: Any) -> str:
    """Tell the reporter by their safe channel (or ask the officer to phone); say which."""
    values = dict(extra)
    if event is not None:
        values["event"] = event
    message = tell_reporter(ctx, case, template, values)
    return str(message.channel) if message is not None else "phone"


def when(value: datetime | date) -> str:
    """A date or moment as officers and the audit read it in step summaries."""
    return long_datetime(value) if isinstance(value, datetime) else long_date(value)


__all__ = ["ACTION_ID", "action_of", "form_date", "form_moment", "has_step", "iso",
           "last_step", "lines", "local_day", "not_in_future", "optional_date",
           "optional_moment", "refuse", "step", "take", "tell", "text", "when"]
