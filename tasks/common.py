"""Small helpers every lifecycle handler uses: the case of a step, times, configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cases import config as council_config
from cases.operations import case_by_reference
from cases.records import Case
from engine import calendar
from engine.handlers import ServiceContext


def case_of(ctx: ServiceContext) -> Case:
    """Return the case record the running process belongs to."""
    return case_by_reference(ctx.session, ctx.business_key)


def moment(value: Any) -> datetime:
    """Read a workflow time (ISO text with an offset, or a datetime) as an aware datetime."""
    return calendar.default_calendar().to_aware(value)


def iso(value: datetime) -> str:
    """Write a time for workflow data: ISO 8601 text in UTC."""
    return value.astimezone(UTC).isoformat()


def setting(ctx: ServiceContext, key: str, at: datetime | None = None) -> Any:
    """Return the council setting in force at ``at`` (default: now on the product clock)."""
    return council_config.get_setting(ctx.session, key, at=at or ctx.now)


def working_days_after(ctx: ServiceContext, start: datetime, days: int) -> datetime:
    """Close of business ``days`` working days after ``start``, with the CoB then in force."""
    cob = setting(ctx, "close_of_business", start)
    return calendar.due_after_working_days(start, days, close_of_business=cob)


def pop_text(ctx: ServiceContext, *keys: str) -> dict[str, Any]:
    """Take free-text form fields out of the workflow data once the case record has them."""
    return {k: ctx.data.pop(k) for k in keys if k in ctx.data}
