"""What every API view needs: the caller, a JSON body, visible objects and the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.audit import AuditRecord, record
from cases.people import Role, User
from cases.records import Case
from engine import clock
from engine.models import HumanTask
from web.access import can_view_case, can_view_task

from .errors import ApiError

JSON_LIMIT = 1024 * 1024


def caller() -> User:
    """The authenticated caller (the blueprint refuses anonymous requests before views run)."""
    user: User | None = g.get("user")
    if user is None:
        raise ApiError(401)
    return user


def require_role(roles: Iterable[Role], message: str) -> User:
    """The caller, if their role is one of ``roles``; else 403."""
    user = caller()
    if user.role not in tuple(roles):
        raise ApiError(403, message)
    return user


def authenticate() -> None:
    """Refuse missing or bad credentials with 401.

    CSRF for browser-session calls that change data is checked before this, for the whole
    app, by ``web.security`` (Bearer-token calls are exempt there).
    """
    if g.get("bad_token"):
        raise ApiError(401, "the API token is not valid")
    if g.get("user") is None:
        raise ApiError(401)


def json_object() -> dict[str, Any]:
    """The request body as a JSON object: 415 for another type, 400 when malformed."""
    if not request.is_json:
        raise ApiError(415, "send the body as application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a well-formed JSON object")
    return body


def visible_case(session: Session, user: User, reference: str) -> Case:
    """The case with ``reference`` if the caller may see it; 404 otherwise (even if it exists)."""
    case = session.scalars(select(Case).where(Case.reference == reference)).one_or_none()
    if case is None or not can_view_case(session, user, case):
        raise ApiError(404, "no such case")
    return case


def case_of(session: Session, task: HumanTask) -> Case | None:
    """The case a task works on (its business key is the case reference)."""
    return session.scalars(select(Case).where(Case.reference == task.business_key)).one_or_none()


def visible_task(session: Session, user: User, task_id: str) -> tuple[HumanTask, Case | None]:
    """The task with ``task_id`` and its case, if the caller may see it; 404 otherwise."""
    task = session.get(HumanTask, task_id) if len(task_id) <= 36 else None
    if task is None:
        raise ApiError(404, "no such task")
    case = case_of(session, task)
    if not can_view_task(session, user, task, case):
        raise ApiError(404, "no such task")
    return task, case


def audit(session: Session, action: str, object_type: str, object_id: str | None, *,
          case_reference: str | None = None, task_name: str | None = None,
          **summary: Any) -> None:
    """Record an API read or change (never personal data: callers pass ids and flags only)."""
    user = caller()
    record(session, AuditRecord(
        at=clock.now(), actor=user.name, action=action, object_type=object_type,
        object_id=object_id, case_reference=case_reference, task_name=task_name,
        summary={"via": "api", "auth": g.get("auth"), **summary}))
