"""What the case pages share: who may open a case file, break-glass access, auditing, times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, g, session
from sqlalchemy import select

from cases.audit import AuditRecord, record
from cases.people import Role, User
from cases.records import REFERENCE_RE, Case
from engine import clock
from tasks.files import FileStore, file_store_from
from web.access import can_view_case
from web.extensions import db

LONDON = ZoneInfo("Europe/London")
CASE_PAGE_ROLES = (Role.OFFICER, Role.TEAM_LEADER, Role.MANAGER)
BREAK_GLASS_ROLES = (Role.OFFICER, Role.TEAM_LEADER)
# Who may read the reporter's contact details (phone, e-mail, address, preferences).
REPORTER_DETAIL_ROLES = (Role.OFFICER, Role.TEAM_LEADER)
BREAK_GLASS_FOR = timedelta(minutes=30)
BREAK_GLASS_KEY = "break_glass"


def user() -> User:
    """The signed-in user (the page guards have run)."""
    found: User = g.user
    return found


def find_case(reference: str) -> Case | None:
    """The case with ``reference``, or None (also for strings that are no reference at all)."""
    if not REFERENCE_RE.fullmatch(reference):
        return None
    return db().scalars(select(Case).where(Case.reference == reference)).one_or_none()


def break_glass_open(reference: str) -> bool:
    """Tell whether this session holds unexpired break-glass access to ``reference``."""
    until = (session.get(BREAK_GLASS_KEY) or {}).get(reference)
    try:
        return until is not None and datetime.fromisoformat(until) > clock.now()
    except (TypeError, ValueError):
        return False


def grant_break_glass(reference: str) -> datetime:
    """Give this session access to ``reference`` for the next 30 minutes; return the expiry."""
    now = clock.now()
    grants = {ref: until for ref, until in (session.get(BREAK_GLASS_KEY) or {}).items()
              if isinstance(until, str) and until > now.isoformat()}
    expires = now + BREAK_GLASS_FOR
    grants[reference] = expires.isoformat()
    session[BREAK_GLASS_KEY] = grants
    return expires


def viewable_case(reference: str) -> tuple[Case, bool]:
    """The case if the user may see it, and whether only break-glass lets them; else 404."""
    case = find_case(reference)
    if case is None:
        abort(404)
    if can_view_case(db(), user(), case):
        return case, False
    if user().role in BREAK_GLASS_ROLES and break_glass_open(case.reference):
        return case, True
    abort(404)


def audit(action: str, case: Case, *, object_type: str = "case", object_id: str | None = None,
          **summary: Any) -> None:
    """Record a page's read or change on ``case`` (ids and flags only, never personal data)."""
    record(db(), AuditRecord(
        at=clock.now(), actor=user().name, action=action, object_type=object_type,
        object_id=object_id or str(case.id), case_reference=case.reference,
        summary={"via": "web", **summary}))


def file_store() -> FileStore:
    """The evidence file store ``ASB_FILES_BACKEND`` chooses; locally ``ASB_FILES``, else
    ``instance/files`` (outside the web root)."""
    return file_store_from(current_app.config, Path(current_app.instance_path) / "files")


def aware(moment: datetime | None) -> datetime | None:
    """``moment`` with UTC attached if the database returned it naive."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def london(moment: datetime | None, with_time: bool = True) -> str:
    """A time as people in England read it, e.g. '29 Dec 2026, 17:00'."""
    moment = aware(moment)
    if moment is None:
        return "not set"
    local = moment.astimezone(LONDON)
    day = f"{local.day} {local:%b %Y}"
    return f"{day}, {local:%H:%M}" if with_time else day
