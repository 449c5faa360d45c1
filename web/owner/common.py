"""What the process owner's pages share: the caller, their rights, auditing, finding versions."""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template
from sqlalchemy.orm import Session

from cases.audit import AuditRecord, record
from cases.people import User
from engine import clock
from engine.models import DefinitionVersion
from web.access import DIAGRAM_EDITORS
from web.extensions import db, rollback_only

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
MAX_REASON = 1000


def me() -> User:
    """The signed-in user (the blueprint's guard has run)."""
    found: User = g.user
    return found


def can_edit() -> bool:
    """Whether the caller may save drafts and publish (process owners and admins)."""
    return me().role in DIAGRAM_EDITORS


def editors_only() -> None:
    """Answer 403 to a reader (a manager) on a page that changes diagrams."""
    if not can_edit():
        abort(403)


def audit(action: str, object_id: int | str | None, **summary: Any) -> None:
    """Record a view or change of a diagram: who, what, which version, and a summary."""
    record(
        db(),
        AuditRecord(
            at=clock.now(),
            actor=me().name,
            action=action,
            object_type="definition",
            object_id=None if object_id is None else str(object_id),
            summary={"via": "web", **summary},
        ),
    )


def version_or_404(session: Session, version_id: int) -> DefinitionVersion:
    """The stored version with that id, or a 404 page."""
    row = session.get(DefinitionVersion, version_id) if 0 < version_id <= MAX_ID else None
    if row is None:
        abort(404)
    return row


def reason_error(reason: str) -> str | None:
    """Why a typed reason is refused, or None."""
    if not reason:
        return "Enter why you are doing this"
    if len(reason) > MAX_REASON:
        return f"The reason must be {MAX_REASON} characters or fewer"
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in reason):
        return "The reason must not contain control characters"
    return None


def refuse(
    template: str, errors: dict[str, str], status: int = 400, **context: Any
) -> tuple[str, int]:
    """Show the form again with its errors, and undo anything the request did."""
    rollback_only()
    return render_template(template, errors=errors, summary=list(errors.items()), **context), status


def page(template: str, **context: Any) -> str:
    """Render a page with no errors."""
    return render_template(template, errors={}, summary=[], **context)
