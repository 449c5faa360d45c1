"""One task's page: its form from the JSON Schema, drafts, completion, and what was submitted.

A completed task shows what was submitted from the workflow itself (the instance is loaded and
the task's own data read, keeping only the form's fields): the audit trail's summary of the
completion is redacted (notes, summaries and names become "(changed)"), so it cannot show it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from flask import flash, redirect, render_template, request, url_for
from SpiffWorkflow.exceptions import TaskNotFoundException
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from cases.drafts import discard_drafts, load_draft, save_draft
from cases.people import User
from cases.records import Case, CaseDataInvalid, CaseStatusConflict
from engine import clock
from engine.errors import EngineError, FormInvalid, TaskConflict, TaskNotFound
from engine.models import HumanTask, ProcessInstance, TaskStatus
from web.access import can_act_on_task
from web.extensions import case_engine, db, rollback_only

from . import queues, taskforms
from .work import CONFLICT, audit, me, page_task, refusal


def _submitted(session: Session, task: HumanTask, fields: list[taskforms.Field]
               ) -> list[tuple[str, str]] | None:
    """The completed task's answers as ``(label, value)`` rows; None if they cannot be read."""
    row = session.get(ProcessInstance, task.instance_id)
    if row is None:
        return None
    try:
        data = case_engine().load(row, session).get_task_from_id(UUID(task.id)).data
    except (EngineError, TaskNotFoundException, ValueError):
        return None
    return [(f.label, taskforms.display_value(f, data.get(f.name))) for f in fields]


def _render(session: Session, user: User, task: HumanTask, case: Case | None, *,
            raw: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
            problem: str | None = None, status: int = 200) -> tuple[str, int]:
    schema = case_engine().form_schema(session, task)
    fields = taskforms.fields_for(schema)
    is_open = task.state is TaskStatus.OPEN
    can_act = is_open and can_act_on_task(user, task, case)
    draft = None
    if can_act and raw is None:
        draft = load_draft(session, task.id, user.name)
        raw = dict(draft.data) if draft is not None else None
    errors = errors or {}
    by_name = {f.name: f for f in fields}
    summary = [{"text": message, "href": "#" + (by_name[name].first_id if name in by_name
                                                 else "task-form")}
               for name, message in errors.items()]
    submitted = (_submitted(session, task, fields)
                 if task.state is TaskStatus.COMPLETED and fields else None)
    return render_template(
        "tasks/task.html", due_text=_due_text(task, is_open),
        draft_saved=_london(draft.saved_at) if draft is not None else None, task=task,
        case=case, schema=schema or {}, fields=fields,
        raw=raw or {}, errors=errors, error_summary=summary, can_act=can_act, is_open=is_open,
        draft=draft, problem=problem, submitted=submitted), status


def _london(moment: datetime) -> str:
    local = moment.astimezone(taskforms.LONDON)
    return f"{local.day} {local:%B %Y at %H:%M}"


def _due_text(task: HumanTask, is_open: bool) -> str:
    found = queues.deadline(task.due_at, clock.now())
    if found is None:
        return "No deadline"
    return f"{found.date} ({found.wording})" if is_open else found.date


def show(task_id: str) -> tuple[str, int]:
    """The task page (read-only when the caller may see the task but not act on it)."""
    session, user = db(), me()
    task, case = page_task(session, user, task_id)
    audit(session, "task_viewed", task, state=str(task.state))
    return _render(session, user, task, case)


def submit(task_id: str) -> Response | tuple[str, int]:
    """Save a draft of the form, or complete the task with it."""
    session, user = db(), me()
    task, case = page_task(session, user, task_id)
    fields = taskforms.fields_for(case_engine().form_schema(session, task))
    raw = taskforms.raw_values(fields, request.form)
    if task.state is not TaskStatus.OPEN:  # completed or cancelled meanwhile: say so first
        rollback_only()
        return _render(session, user, task, case, raw=raw, problem=CONFLICT, status=409)
    if not can_act_on_task(user, task, case):
        return refusal(403, "You cannot work on this task",
                       "You can see this task but it is not yours to work on.")
    if request.form.get("action") == "save_draft":
        save_draft(session, task.id, user.name, raw, clock.now())
        audit(session, "task_draft_saved", task)
        flash("Your draft was saved. It is kept until the task is completed.", "success")
        return redirect(url_for("inbox.task", task_id=task.id))
    return _complete(session, user, task, case, fields, raw)


def _complete(session: Session, user: User, task: HumanTask, case: Case | None,
              fields: list[taskforms.Field], raw: dict[str, Any]
              ) -> Response | tuple[str, int]:
    schema = case_engine().form_schema(session, task)
    data, errors = taskforms.parse(fields, raw)
    errors = {**taskforms.check(schema, fields, data), **errors}
    if errors:
        audit(session, "task_form_invalid", task, fields=sorted(errors))
        return _render(session, user, task, case, raw=raw, errors=errors, status=422)
    title, reference, task_id = task.title, task.business_key, task.id
    try:
        done = case_engine().complete(session, task_id, data, actor=user.name)
    except (TaskConflict, TaskNotFound, CaseStatusConflict) as exc:
        rollback_only()
        session.rollback()
        fresh, case = page_task(session, user, task_id)
        # A suspended process says so; any other conflict is someone else's doing.
        problem = (f"Nothing was saved: {exc}." if "suspended" in str(exc) else CONFLICT)
        return _render(session, user, fresh, case, raw=raw, problem=problem, status=409)
    except (FormInvalid, CaseDataInvalid) as exc:
        rollback_only()
        session.rollback()
        fresh, case = page_task(session, user, task_id)
        return _render(session, user, fresh, case, raw=raw,
                       errors=taskforms.engine_errors(fields, exc.errors), status=422)
    discard_drafts(session, task_id)
    audit(session, "task_completed", task, fields=sorted(data),
          next_tasks=[t.name for t in done.next_tasks])
    flash(_completion_message(title, reference, done.next_tasks), "success")
    return redirect(url_for("inbox.index"))


def _completion_message(title: str, reference: str, next_tasks: list[HumanTask]) -> str:
    if not next_tasks:
        return f"“{title}” on case {reference} is complete. There is no next task yet."
    named = ", ".join(f"“{t.title}”" for t in next_tasks)
    return f"“{title}” on case {reference} is complete. Next: {named}."
