"""A manager's actions on one instance: suspend, resume, cancel, reassign tasks, retry.

Each action is a page with a form (GET) that posts back (POST) with a required reason and
the CSRF token. A missing reason or a refusal shows the form again with the message and
changes nothing (the request is rolled back); success goes back to the instance page. The
change itself, with who and why, is audited by ``engine/control.py``; opening a form is
audited here as a view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from cases.people import Role, User
from engine import control
from engine.errors import EngineError, TaskNotFound
from engine.models import HumanTask, Incident, IncidentStatus, ProcessInstance, TaskStatus
from engine.runtime import CaseEngine
from web.extensions import case_engine, db, rollback_only

from .instance_list import MAX_ID
from .instances import STATUS_WORDS, audit, instance_or_404

MAX_REASON = control.MAX_REASON
Action = Callable[[CaseEngine, Session, int, str, str], ProcessInstance]


@dataclass(frozen=True)
class Kind:
    """One of the instance-wide actions, as its page says it."""

    title: str
    button: str
    explain: str
    done: str
    run: Action


KINDS = {
    "suspend": Kind(
        "Suspend this process", "Suspend",
        "While it is suspended nothing in this process moves: its deadlines do not fire, "
        "failed steps are not retried, and its open tasks stay in the inboxes but cannot be "
        "claimed or completed. Messages to the case wait and are delivered when you resume it.",
        "The process is suspended.", control.suspend),
    "resume": Kind(
        "Resume this process", "Resume",
        "Its deadlines and retries are due again: anything that fell due while it was "
        "suspended happens within a minute. Messages that waited are delivered now.",
        "The process is running again.", control.resume),
    "cancel": Kind(
        "Cancel this process", "Cancel the process",
        "This ends the process for good: its open tasks leave the inboxes, its deadlines "
        "and retries stop. It cannot be undone. The case record itself is not closed.",
        "The process is cancelled.", control.cancel),
}


def reason_error(reason: str) -> str | None:
    """Why a typed reason is refused, or None."""
    if not reason:
        return "Enter why you are doing this"
    if len(reason) > MAX_REASON:
        return f"The reason must be {MAX_REASON} characters or fewer"
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in reason):
        return "The reason must not contain control characters"
    return None


def _form(template: str, errors: dict[str, str], status: int = 200,
          **context: Any) -> tuple[str, int]:
    if errors:
        rollback_only()
    return render_template(template, errors=errors, summary=list(errors.items()),
                           words=STATUS_WORDS, **context), status


def _back(row: ProcessInstance) -> Response:
    return redirect(url_for("manager_instances.show", instance_id=row.id))


def act(instance_id: int, action: str) -> Response | tuple[str, int]:
    """Suspend, resume or cancel one instance, with a reason."""
    kind = KINDS.get(action)
    if kind is None:
        abort(404)
    session = db()
    row = instance_or_404(session, instance_id)
    template = "manager/instances_action.html"
    context: dict[str, Any] = {"row": row, "kind": kind, "action": action, "reason": ""}
    if request.method == "GET":
        audit("instance_action_viewed", row, action=action)
        return _form(template, {}, **context)
    reason = str(request.form.get("reason", "")).strip()
    context["reason"] = reason
    if (why := reason_error(reason)) is not None:
        return _form(template, {"reason": why}, 400, **context)
    try:
        kind.run(case_engine(), session, row.id, g.user.name, reason)
    except EngineError as exc:
        return _form(template, {"reason": _sentence(exc)}, 409, **context)
    flash(kind.done, "success")
    return _back(row)


def _sentence(exc: Exception) -> str:
    text = str(exc) or "This cannot be done now"
    return text[:1].upper() + text[1:].rstrip(".") + "."


def _assignees(session: Session, roles: set[str]) -> list[User]:
    """Active people who could take tasks of ``roles`` (a lane's role), by name."""
    wanted = [Role(r) for r in roles if r in {x.value for x in Role}]
    if not wanted:
        return []
    return list(session.scalars(select(User).where(User.role.in_(wanted),
                                                   User.active.is_(True))
                                .order_by(User.display_name)))


def reassign(instance_id: int) -> Response | tuple[str, int]:
    """Give one or several open tasks of an instance to someone in their lane's role."""
    session = db()
    row = instance_or_404(session, instance_id)
    open_tasks = list(session.scalars(select(HumanTask).where(
        HumanTask.instance_id == row.id, HumanTask.state == TaskStatus.OPEN)
        .order_by(HumanTask.due_at, HumanTask.created_at)))
    people = _assignees(session, {t.role for t in open_tasks if t.role})
    names = dict(session.execute(select(User.name, User.display_name)).all())
    template = "manager/instances_reassign.html"
    chosen = request.values.getlist("task")
    context: dict[str, Any] = {"row": row, "open_tasks": open_tasks, "people": people,
                               "names": names, "chosen": chosen, "reason": "",
                               "to": request.values.get("to", "")}
    if request.method == "GET":
        audit("instance_action_viewed", row, action="reassign", tasks=len(open_tasks))
        return _form(template, {}, **context)
    reason = str(request.form.get("reason", "")).strip()
    context["reason"] = reason
    errors: dict[str, str] = {}
    known = {t.id for t in open_tasks}
    if not chosen:
        errors["task"] = "Choose at least one task"
    elif not set(chosen) <= known:
        errors["task"] = "Choose tasks of this process that are still open"
    target = _person(session, str(context["to"]))
    if target is None:
        errors["to"] = "Choose who should do the tasks"
    if (why := reason_error(reason)) is not None:
        errors["reason"] = why
    if errors or target is None:
        return _form(template, errors, 400, **context)
    try:
        control.reassign(case_engine(), session, chosen, target.name, str(target.role),
                         g.user.name, reason)
    except (control.ActionRefused, TaskNotFound) as exc:
        return _form(template, {"to": f"{target.display_name} cannot take this: "
                                      f"{_sentence(exc)}"}, 409, **context)
    except EngineError as exc:
        return _form(template, {"task": _sentence(exc)}, 409, **context)
    count = len(chosen)
    flash(f"{count} task{'s' if count != 1 else ''} given to {target.display_name}.", "success")
    return _back(row)


def _person(session: Session, raw: str) -> User | None:
    if not raw.isdecimal() or not 0 < int(raw) <= MAX_ID:
        return None
    user = session.get(User, int(raw))
    return user if user is not None and user.active else None


def retry(instance_id: int, incident_id: int) -> Response | tuple[str, int]:
    """Run an incident's failing step again now, with a reason."""
    session = db()
    row = instance_or_404(session, instance_id)
    incident = session.get(Incident, incident_id) if 0 < incident_id <= MAX_ID else None
    if incident is None or incident.instance_id != row.id:
        abort(404)
    template = "manager/instances_retry.html"
    context: dict[str, Any] = {"row": row, "incident": incident, "reason": ""}
    if request.method == "GET":
        audit("instance_action_viewed", row, action="retry", incident=incident.id)
        return _form(template, {}, **context)
    reason = str(request.form.get("reason", "")).strip()
    context["reason"] = reason
    if (why := reason_error(reason)) is not None:
        return _form(template, {"reason": why}, 400, **context)
    try:
        control.retry(case_engine(), session, incident.id, g.user.name, reason)
    except EngineError as exc:
        return _form(template, {"reason": _sentence(exc)}, 409, **context)
    if incident.status is IncidentStatus.RESOLVED:
        flash(f"The step “{incident.task_name}” ran again and succeeded.", "success")
    else:
        flash(f"The step “{incident.task_name}” failed again: {incident.message[:200]}")
    return _back(row)
