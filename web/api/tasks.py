"""Tasks: the inbox and queues, one task with its form, claim and complete."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.records import CaseDataInvalid, CaseStatusConflict
from engine.errors import FormInvalid, TaskConflict, TaskNotFound
from engine.models import HumanTask, TaskStatus
from web.access import actionable_tasks, can_act_on_task, could_claim
from web.extensions import case_engine, db

from . import serializers
from .common import audit, caller, json_object, visible_task
from .errors import ApiError
from .pagination import paginate


def _task_filters() -> tuple[bool, TaskStatus]:
    errors: dict[str, str] = {}
    assignee = request.args.get("assignee")
    if assignee not in (None, "me"):
        errors["assignee"] = "must be 'me' (or left out for the queues you may work on)"
    state = request.args.get("state", "open")
    if state not in {s.value for s in TaskStatus}:
        errors["state"] = "must be one of " + ", ".join(s.value for s in TaskStatus)
    if errors:
        raise ApiError(422, "bad filter", errors)
    return assignee == "me", TaskStatus(state)


def list_tasks() -> Response:
    """``GET /tasks``: ``assignee=me`` is the inbox; without it, every task the caller may do."""
    user = caller()
    mine_only, state = _task_filters()
    stmt = (select(HumanTask).where(HumanTask.assignee == user.name) if mine_only
            else actionable_tasks(user))
    stmt = stmt.where(HumanTask.state == state).order_by(
        HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
    return jsonify(paginate(db(), stmt, serializers.task))


def get_task(task_id: str) -> Response:
    """``GET /tasks/{id}``: the task, its case and the JSON Schema of its form."""
    session = db()
    task, _case = visible_task(session, caller(), task_id)
    schema = case_engine().form_schema(session, task)
    audit(session, "api.task_viewed", "task", task.id, case_reference=task.business_key,
          task_name=task.name)
    return jsonify(serializers.task_detail(task, schema))


def claim_task(task_id: str) -> Response:
    """``POST /tasks/{id}/claim``: 200 (also when already yours), 409 when someone else holds it."""
    session = db()
    user = caller()
    task, case = visible_task(session, user, task_id)
    if not could_claim(user, task, case):
        raise ApiError(403, "you may not work on this task")
    try:
        claimed = case_engine().claim(session, task.id, user.name)
    except TaskConflict as exc:
        raise ApiError(409, str(exc)) from None
    except TaskNotFound:
        raise ApiError(404, "no such task") from None
    audit(session, "api.task_claimed", "task", task.id, case_reference=task.business_key,
          task_name=task.name)
    return jsonify(serializers.task(claimed))


def _form_data() -> dict[str, Any]:
    body = json_object()
    errors = {key: "is not a known field" for key in body if key != "data"}
    data: Any = body.get("data", {})
    if not isinstance(data, dict):
        errors["data"] = "must be an object of form fields"
    if errors:
        raise ApiError(422, "the request has invalid fields", errors)
    return dict(data)


def complete_task(task_id: str) -> Response:
    """``POST /tasks/{id}/complete`` with ``{"data": {...}}``: 200 with the next tasks."""
    session = db()
    user = caller()
    task, case = visible_task(session, user, task_id)
    if not can_act_on_task(user, task, case):
        raise ApiError(403, "you may not work on this task")
    data = _form_data()
    name, reference = task.name, task.business_key
    try:
        done = case_engine().complete(session, task.id, data, user.name)
    except TaskConflict as exc:
        raise ApiError(409, str(exc)) from None
    except TaskNotFound:
        raise ApiError(404, "no such task") from None
    except FormInvalid as exc:
        raise ApiError(422, "the form has invalid fields", exc.errors) from None
    except CaseDataInvalid as exc:
        raise ApiError(422, "the form has invalid fields", exc.errors) from None
    except CaseStatusConflict as exc:
        raise ApiError(409, str(exc)) from None
    audit(session, "api.task_completed", "task", task_id, case_reference=reference,
          task_name=name, fields=sorted(data))
    return jsonify({"case": reference,
                    "next_tasks": [serializers.task(t) for t in done.next_tasks]})
