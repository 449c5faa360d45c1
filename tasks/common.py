"""Small helpers every lifecycle handler uses: the case of a step, times, configuration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from cases import config as council_config
from cases.operations import case_by_reference
from cases.records import Case, CaseDataInvalid
from engine import calendar
from engine.errors import FormInvalid
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


@contextmanager
def refuse_as_form(**renames: str) -> Iterator[None]:
    """Turn the case record's refusal of what a person entered into form field errors.

    ``renames`` maps the record's field names to the form's (``at="contacted_at"``), so the
    completion is refused with a message on the field the officer filled in.
    """
    try:
        yield
    except CaseDataInvalid as exc:
        raise FormInvalid({renames.get(k, k): v for k, v in exc.errors.items()}) from exc


def pop_text(ctx: ServiceContext, *keys: str) -> dict[str, Any]:
    """Take free-text form fields out of the workflow data once the case record has them."""
    return {k: ctx.data.pop(k) for k in keys if k in ctx.data}
