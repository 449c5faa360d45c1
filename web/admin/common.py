"""What the admin pages share: the caller, auditing, reading form text and showing errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import abort, g, render_template
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from cases.audit import AuditRecord, record
from cases.config import LOCAL_TZ
from cases.people import PeopleError, User, check_contact
from engine import clock
from web.extensions import db, rollback_only

# Control characters other than tab and line breaks: refused in anything typed.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Errors = dict[str, str]


def me() -> User:
    """The signed-in administrator (the blueprint's guard has run)."""
    found: User = g.user
    return found


def audit(action: str, object_type: str, object_id: int | str, **summary: Any) -> None:
    """Record an administrator's change: who, what, which object by id, and a summary."""
    record(db(), AuditRecord(at=clock.now(), actor=me().name, action=action,
                             object_type=object_type, object_id=str(object_id),
                             summary={"via": "admin", **summary}))


def checked(form: FlaskForm) -> None:
    """Refuse a form whose CSRF token is missing or wrong (the app-wide check runs first)."""
    if not form.validate():
        abort(400)


def text(form: FlaskForm, name: str, errors: Errors, label: str, *, longest: int,
         required: str | None = None) -> str:
    """The field's text, stripped; adds an error when required and empty, too long or odd."""
    value = str(form[name].data or "").strip()
    if _CONTROL_RE.search(value):
        errors.setdefault(name, f"{label} must not contain control characters")
    elif not value and required:
        errors.setdefault(name, required)
    elif len(value) > longest:
        errors.setdefault(name, f"{label} must be {longest} characters or fewer")
    return value


def email(form: FlaskForm, name: str, errors: Errors, label: str) -> str | None:
    """The field's e-mail address (None when empty); adds an error when it is not one."""
    value = text(form, name, errors, label, longest=254)
    if value and name not in errors:
        try:
            check_contact(value, None, None)
        except PeopleError:
            errors[name] = ("Enter an email address in the correct format, like "
                            "name@council.example.org")
    return value or None


def sentence(message: str) -> str:
    """A domain message as a GOV.UK error message: capitalised, no full stop."""
    message = message.strip().rstrip(".")
    return message[:1].upper() + message[1:]


def people_error(exc: PeopleError, errors: Errors, fields: dict[str, str] | None = None) -> None:
    """Put a refusal from ``cases`` on the form field it names (``fields`` renames them)."""
    name = (fields or {}).get(exc.field, exc.field)
    errors.setdefault(name, sentence(exc.message))


def refuse(template: str, errors: Errors, **context: Any) -> tuple[str, int]:
    """Show the form again with its errors, and undo anything the request did."""
    rollback_only()
    return render_template(template, errors=errors, summary=list(errors.items()),
                           **context), 400


def page(template: str, **context: Any) -> str:
    """Render an admin page with no errors."""
    return render_template(template, errors={}, summary=[], **context)


def get_or_404(session: Session, model: Any, object_id: int) -> Any:
    """The row with ``object_id``, or a 404 page."""
    found = session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def uk_time(moment: datetime | None, with_time: bool = True) -> str:
    """A moment as people in England read it, e.g. '29 December 2026, 17:00'."""
    if moment is None:
        return ""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(LOCAL_TZ)
    day = f"{local.day} {local:%B %Y}"
    return f"{day}, {local:%H:%M}" if with_time else day
