"""How cases and tasks look in the API: times in UTC with ``Z``, enums as their values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from cases.people import find_user
from cases.records import Case
from engine.models import HumanTask

FORM_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


def utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z``; None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def officer(session: Session, name: str | None) -> dict[str, Any] | None:
    """The case officer's contact details as the reporter may be given them."""
    if name is None:
        return None
    user = find_user(session, name)
    if user is None:
        return {"username": name, "name": name, "email": None, "phone": None}
    return {"username": user.name, "name": user.display_name, "email": user.email,
            "phone": user.phone}


def case_summary(session: Session, case: Case) -> dict[str, Any]:
    """The answer to ``POST /cases``."""
    return {"reference": case.reference, "status": str(case.status), "priority": case.priority,
            "received_at": utc(case.received_at),
            "first_contact_due_at": utc(case.first_contact_due_at),
            "case_officer": officer(session, case.case_officer)}


def case_detail(session: Session, case: Case) -> dict[str, Any]:
    """The answer to ``GET /cases/{reference}``: the summary plus stage and updates."""
    body = case_summary(session, case)
    body.update({
        "stage": str(case.stage), "channel": str(case.channel), "category": str(case.category),
        "hate_strands": list(case.hate_strands or []), "area": case.area,
        "team": case.team, "update_frequency": case.update_frequency,
        "next_update_due_at": utc(case.next_update_due_at),
        "first_contact_at": utc(case.first_contact_at), "closed_at": utc(case.closed_at),
        "closure_reason": str(case.closure_reason) if case.closure_reason else None,
        "linked_from": case.linked_from,
    })
    return body


def task(row: HumanTask) -> dict[str, Any]:
    """A task as every task list shows it."""
    return {"id": row.id, "name": row.name, "title": row.title, "state": str(row.state),
            "role": row.role, "assignee": row.assignee, "due_at": utc(row.due_at)}


def task_detail(row: HumanTask, schema: dict[str, Any] | None) -> dict[str, Any]:
    """A task with its case reference and the JSON Schema that completing it accepts."""
    form = schema if schema is not None else {
        "$schema": FORM_SCHEMA, "type": "object", "properties": {}, "required": [],
        "additionalProperties": False}
    return {**task(row), "case": row.business_key, "form": form,
            "created_at": utc(row.created_at), "finished_at": utc(row.finished_at)}
