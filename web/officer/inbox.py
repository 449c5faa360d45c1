"""The inbox: my tasks and the team's queue, claim, release and reassign; the URL map of both pages.

URL map (blueprint ``inbox``):
    GET  /inbox                    the inbox (tabs, filters, sorting, 25 a page)
    GET  /inbox/counts.json        live counts for the tabs (signed-in session only)
    GET  /tasks/<id>               a task and its form (read-only if you may not act on it)
    POST /tasks/<id>               save a draft or complete the task
    POST /tasks/<id>/claim         take an unclaimed task
    POST /tasks/<id>/release       give a task back (its holder or a team leader)
    POST /tasks/<id>/assign        a team leader hands a task to an officer of their team
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cases.people import Role
from engine import clock
from engine.errors import TaskConflict, TaskNotFound
from engine.models import TaskStatus
from web.access import can_act_on_task, could_claim
from web.auth.guards import roles_required
from web.extensions import case_engine, db

from . import queues, task_page
from .work import (
    CONFLICT,
    WORK_ROLES,
    audit,
    back_to_inbox,
    locked_task,
    me,
    page_task,
    refusal,
    team_officers,
)

bp = Blueprint("inbox", __name__)
guard = roles_required(*WORK_ROLES)


def index() -> str:
    """The inbox: one tab of open tasks, filtered, sorted and paginated."""
    session, user, now = db(), me(), clock.now()
    allowed = queues.choices(session)
    filters = queues.read_filters(request.args, user, allowed)
    stmt = queues.inbox_query(user, filters, now)
    total = queues.count(session, stmt)
    page, pages = queues.pagination(total, filters)
    rows = session.execute(stmt.limit(queues.PER_PAGE).offset((page - 1) * queues.PER_PAGE))
    items = [{"task": task, "priority": priority, "stage": stage, "area": area,
              "deadline": queues.deadline(task.due_at, now)}
             for task, priority, stage, area in rows]
    audit(session, "inbox_viewed", view=filters.view, page=page, shown=len(items),
          filters=sorted(k for k in filters.args() if k not in ("view", "page")))
    return render_template(
        "inbox/index.html", items=items, filters=filters, allowed=allowed, total=total,
        page=page, pages=pages, views=queues.views_for(user),
        counts=queues.counts(session, user, now),
        officers=team_officers(session, user) if user.role is Role.TEAM_LEADER else [],
        pagination=_pagination(filters, page, pages), due_labels=queues.DUE)


def _pagination(filters: queues.Filters, page: int, pages: int) -> dict[str, Any] | None:
    if pages <= 1:
        return None

    def href(n: int) -> str:
        return url_for("inbox.index", **filters.args(page=n))

    params: dict[str, Any] = {"items": [{"number": n, "href": href(n), "current": n == page}
                                        for n in range(1, pages + 1)]}
    if page > 1:
        params["previous"] = {"href": href(page - 1)}
    if page < pages:
        params["next"] = {"href": href(page + 1)}
    return params


def counts_json() -> Response | tuple[Response, int]:
    """Live counts for the inbox tabs, for a signed-in browser session only."""
    user = g.get("user")
    if user is None or g.get("auth") != "session":
        return jsonify({"error": "sign in"}), 401
    if user.role not in WORK_ROLES:
        return jsonify({"error": "forbidden"}), 403
    return jsonify(queues.counts(db(), user, clock.now()))


def claim(task_id: str) -> Response | tuple[str, int]:
    """Take an open task nobody holds; 409 if someone else holds it."""
    session, user = db(), me()
    task, case = page_task(session, user, task_id)
    if not could_claim(user, task, case):
        return refusal(403, "You cannot claim this task",
                       "This task is for another role or team.")
    try:
        case_engine().claim(session, task.id, user.name)
    except TaskConflict:
        return refusal(409, "You cannot claim this task", CONFLICT)
    except TaskNotFound:
        return refusal(404, "Task not found", "The task no longer exists.")
    audit(session, "task_claimed", task)
    flash(f"You claimed “{task.title}” on case {task.business_key}.", "success")
    return redirect(back_to_inbox())


def release(task_id: str) -> Response | tuple[str, int]:
    """Give a held task back to the team's queue (its holder or a team leader of its team)."""
    session, user = db(), me()
    _task, case = page_task(session, user, task_id)
    task = locked_task(session, task_id)
    holder = task.assignee is not None and task.assignee == user.name
    leader = user.role is Role.TEAM_LEADER and can_act_on_task(user, task, case)
    if not (holder or leader):
        return refusal(403, "You cannot release this task",
                       "Only the person who holds it or a team leader can release it.")
    if task.state is not TaskStatus.OPEN or task.assignee is None:
        return refusal(409, "You cannot release this task", CONFLICT)
    task.assignee = None
    audit(session, "task_released", task, by_holder=holder)
    flash(f"You released “{task.title}” on case {task.business_key}.", "success")
    return redirect(back_to_inbox())


def assign(task_id: str) -> Response | tuple[str, int]:
    """A team leader hands an open task of their team to one of their officers."""
    session, user = db(), me()
    if user.role is not Role.TEAM_LEADER:
        return refusal(403, "You cannot reassign tasks", "Only a team leader can reassign.")
    _task, case = page_task(session, user, task_id)
    task = locked_task(session, task_id)
    if not can_act_on_task(user, task, case):
        return refusal(403, "You cannot reassign this task", "It belongs to another team.")
    officers = {o.name: o for o in team_officers(session, user)}
    chosen = request.form.get("officer", "")
    if chosen not in officers:
        return refusal(400, "Choose an officer", "Choose an officer of your team.")
    if task.state is not TaskStatus.OPEN:
        return refusal(409, "You cannot reassign this task", CONFLICT)
    previous = task.assignee
    task.assignee = chosen
    audit(session, "task_assigned", task, from_user=previous, to_user=chosen)
    flash(f"“{task.title}” on case {task.business_key} is now with "
          f"{officers[chosen].display_name}.", "success")
    return redirect(back_to_inbox())


bp.add_url_rule("/inbox", view_func=guard(index))
bp.add_url_rule("/inbox/counts.json", view_func=counts_json)
bp.add_url_rule("/tasks/<task_id>", "task", view_func=guard(task_page.show))
bp.add_url_rule("/tasks/<task_id>", "task_submit", view_func=guard(task_page.submit),
                methods=["POST"])
bp.add_url_rule("/tasks/<task_id>/claim", view_func=guard(claim), methods=["POST"])
bp.add_url_rule("/tasks/<task_id>/release", view_func=guard(release), methods=["POST"])
bp.add_url_rule("/tasks/<task_id>/assign", view_func=guard(assign), methods=["POST"])
