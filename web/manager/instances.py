"""The managers' instance pages: the filtered list, one instance, and its diagram as JSON.

Each view is audited (``page.instances_listed``, ``page.instance_viewed``,
``page.instance_diagram_viewed``) with ids, codes and counts only. The diagram JSON carries
element ids, names and states, never task data; ``instance_diagram.js`` draws it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import abort, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from cases.audit import SENSITIVE_HINTS, AuditRecord, record
from cases.people import Area, Role, User
from engine import clock
from engine.instance_view import details
from engine.models import DefinitionVersion, HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from web.extensions import case_engine, db
from web.officer import process_view
from web.officer.case_access import london

from .instance_diagrams import duration_words, step_choices
from .instance_list import MAX_ID, MAX_NAME, Filters, list_page, parse_filters, resolve_officer

# More officers than this and the filter form asks for a name instead of listing them all.
OFFICER_LIST_MAX = 100
STATUS_WORDS = {
    InstanceStatus.RUNNING: "Running", InstanceStatus.WAITING: "Waiting",
    InstanceStatus.INCIDENT: "Incident", InstanceStatus.SUSPENDED: "Suspended",
    InstanceStatus.COMPLETED: "Completed", InstanceStatus.CANCELLED: "Cancelled",
}
STATUS_COLOURS = {
    InstanceStatus.RUNNING: "blue", InstanceStatus.WAITING: "grey",
    InstanceStatus.INCIDENT: "red", InstanceStatus.SUSPENDED: "orange",
    InstanceStatus.COMPLETED: "green", InstanceStatus.CANCELLED: "purple",
}


def audit(event: str, row: ProcessInstance | None = None, **summary: Any) -> None:
    """Record a view of the instance pages: who, which instance, the codes asked for."""
    record(db(), AuditRecord(
        at=clock.now(), actor=g.user.name, action=f"page.{event}",
        object_type="process_instance", object_id=str(row.id) if row is not None else None,
        case_reference=row.business_key if row is not None else None,
        summary={"via": "web", **summary}))


def instance_or_404(session: Session, instance_id: int) -> ProcessInstance:
    """The instance with that id, or a 404 page."""
    row = session.get(ProcessInstance, instance_id) if 0 < instance_id <= MAX_ID else None
    if row is None:
        abort(404)
    return row


def withheld(name: str) -> bool:
    """Whether a variable's value may hold personal details (shown only on the case file)."""
    lowered = name.lower()
    return any(hint in lowered for hint in SENSITIVE_HINTS)


ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)")


def moment_text(value: str) -> str:
    """A variable's ISO time as people in England read it; any other value unchanged."""
    if not ISO_MOMENT.fullmatch(value):
        return value
    try:
        return london(datetime.fromisoformat(value))
    except ValueError:
        return value


def remaining(due: datetime | None, now: datetime) -> str:
    """Time left until ``due`` in words, or how long ago it passed."""
    if due is None:
        return ""
    left = (due - now).total_seconds()
    return f"in {duration_words(left)}" if left >= 0 else f"overdue by {duration_words(left)}"


def _choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The options of the filter form: codes and ids as values, names only as labels."""
    versions = session.execute(select(
        DefinitionVersion.id, DefinitionVersion.process_id, DefinitionVersion.name,
        DefinitionVersion.version).order_by(DefinitionVersion.process_id,
                                            DefinitionVersion.version.desc())).all()
    processes: dict[str, str] = {}
    for _, pid, name, _v in versions:
        processes.setdefault(pid, f"{name or pid} ({pid})")
    officers = select(User.id, User.display_name, User.role).where(
        User.role.in_([Role.OFFICER, Role.TEAM_LEADER]))
    people = session.execute(officers.order_by(User.display_name).limit(OFFICER_LIST_MAX + 1)
                             ).all()
    if len(people) > OFFICER_LIST_MAX:  # too many to pick from: the form shows a text box
        people = []
    return {
        "status": [(s.value, STATUS_WORDS[s]) for s in InstanceStatus],
        "process": sorted(processes.items(), key=lambda item: item[1].lower()),
        "version": [(str(i), f"{name or pid} – version {v}") for i, pid, name, v in versions],
        "step": step_choices(session),
        "officer": [(str(i), f"{name} ({str(role).replace('_', ' ')})")
                    for i, name, role in people],
        "area": [(str(i), name) for i, name in session.execute(
            select(Area.id, Area.name).order_by(Area.name))],
    }


def _officer_text(session: Session, args: Mapping[str, str], filters: Filters) -> str:
    """What the officer text box shows: the chosen officer's name, or what was typed."""
    if filters.officer:
        return session.scalar(select(User.display_name).where(User.id == filters.officer)) or ""
    return str(args.get("officer", ""))[:MAX_NAME]


def index() -> Response | tuple[str, int] | str:
    """The list of instances, filtered, 50 a page, newest first."""
    session = db()
    filters = resolve_officer(session, parse_filters(request.args))
    if request.args.get("officer") and filters.officer and not filters.errors and \
            request.args["officer"] != str(filters.officer):
        return redirect(url_for("manager_instances.index", **filters.args()))
    now = clock.now()
    page = list_page(session, filters, now=now) if not filters.errors else None
    audit("instances_listed", filters=filters.args(), errors=sorted(filters.errors),
          shown=len(page.rows) if page else 0, after=filters.after, before=filters.before)
    shown = {r.case_officer for r in page.rows if r.case_officer} if page else set()
    people = dict(session.execute(select(User.name, User.display_name)
                                  .where(User.name.in_(shown))).all()) if shown else {}
    html = render_template(
        "manager/instances.html", filters=filters, page=page, now=now, people=people,
        choices=_choices(session), officer_text=_officer_text(session, request.args, filters),
        words=STATUS_WORDS, colours=STATUS_COLOURS,
        summary=list(filters.errors.items()), errors=filters.errors)
    return (html, 400) if filters.errors else html


def show(instance_id: int) -> str:
    """One instance: diagram, where it is, task history, variables, timers, messages, incidents."""
    session = db()
    row = instance_or_404(session, instance_id)
    now = clock.now()
    found = details(case_engine(), session, row, withhold=withheld)
    names = {t.assignee for t in found.tasks} | {t.finished_by for t in found.tasks}
    people = dict(session.execute(select(User.name, User.display_name).where(
        User.name.in_([n for n in names if n]))).all())
    open_tasks = [t for t in found.tasks if t.state is TaskStatus.OPEN]
    audit("instance_viewed", row, status=row.status.value, tasks=len(found.tasks),
          incidents=len(found.incidents))
    return render_template(
        "manager/instances_show.html", row=row, view=found, open_tasks=open_tasks, now=now,
        people=people, remaining=remaining, moment_text=moment_text, words=STATUS_WORDS,
        colours=STATUS_COLOURS, version=row.definition,
        ended=row.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED))


def diagram(instance_id: int) -> Response:
    """The instance's diagrams, in the version it runs, with its tokens and the path it took."""
    session = db()
    row = instance_or_404(session, instance_id)
    open_tasks = {t.id: t for t in session.scalars(select(HumanTask).where(
        HumanTask.instance_id == row.id, HumanTask.state == TaskStatus.OPEN))}
    outline = process_view._outline(session, row, open_tasks)  # the case file's drawing
    views = []
    for view in outline.views:
        label = "Whole process" if view.depth == 0 else view.name
        views.append(view.as_json(label))
    current = process_view._current(outline.views) or (
        outline.views[0] if outline.views else None)
    audit("instance_diagram_viewed", row, views=len(views))
    return jsonify({"mode": "instance", "instance": row.id, "views": views,
                    "diagrams": outline.diagrams,
                    "current": current.key if current else None})
