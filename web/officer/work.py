"""What the inbox and task pages share: the caller, the task they asked for, and auditing."""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.audit import AuditRecord, record
from cases.people import Role, Team, User
from cases.records import Case
from engine import clock
from engine.models import HumanTask
from web.access import can_view_task
from web.api.common import case_of
from web.auth.guards import safe_next
from web.extensions import rollback_only

# Managers answer stage 2 complaints, so they have an inbox and task pages too.
WORK_ROLES = (Role.OFFICER, Role.TEAM_LEADER, Role.MANAGER)
CONFLICT = "This task was completed or changed by someone else."


def me() -> User:
    """The signed-in caller (the guards have run)."""
    user: User = g.user
    return user


def page_task(session: Session, user: User, task_id: str) -> tuple[HumanTask, Case | None]:
    """The task and its case if ``user`` may see it; 404 otherwise, even if it exists."""
    task = session.get(HumanTask, task_id) if len(task_id) <= 36 else None
    if task is None:
        abort(404)
    case = case_of(session, task)
    if not can_view_task(session, user, task, case):
        abort(404)
    return task, case


def locked_task(session: Session, task_id: str) -> HumanTask:
    """Read the task again under a row lock, as it is now."""
    task = session.scalars(select(HumanTask).where(HumanTask.id == task_id).with_for_update()
                           .execution_options(populate_existing=True)).one_or_none()
    if task is None:
        abort(404)
    return task


def audit(session: Session, action: str, task: HumanTask | None = None, **summary: Any) -> None:
    """Record a page view or change as ``page.<action>`` (ids and flags only, no personal data)."""
    record(session, AuditRecord(
        at=clock.now(), actor=me().name, action=f"page.{action}",
        object_type="task" if task is not None else "inbox",
        object_id=task.id if task is not None else None,
        case_reference=task.business_key if task is not None else None,
        task_name=task.name if task is not None else None, summary={"via": "page", **summary}))


def team_officers(session: Session, user: User) -> list[User]:
    """The active officers of ``user``'s team, by display name."""
    if user.team is None:
        return []
    return list(session.scalars(
        select(User).join(Team, Team.id == User.team_id)
        .where(Team.name == user.team.name, User.role == Role.OFFICER, User.active.is_(True))
        .order_by(User.display_name)))


def back_to_inbox() -> str:
    """Where a claim, release or assign button returns to: the page it came from, or the inbox."""
    return safe_next(request.form.get("next")) or url_for("inbox.index")


def refusal(status: int, heading: str, message: str) -> tuple[str, int]:
    """A page saying why nothing was changed; the request's work is rolled back."""
    rollback_only()
    return render_template("tasks/refused.html", heading=heading, message=message,
                           back=back_to_inbox()), status
