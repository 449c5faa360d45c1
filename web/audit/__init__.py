"""The audit trail for managers: search by case, user, action and dates; CSV; unusual reading.

URL map (blueprint ``audit``, managers and admins; everyone else 403, strangers sign in):
    GET  /audit               search (``case``, ``user``, ``action`` prefix, ``from``, ``to``
                              as YYYY-MM-DD in UK time), newest first, 50 a page, paged by
                              id (``before``/``after``)
    GET  /audit/export.csv    the same search as CSV (at most 10,000 rows, newest first)
    GET  /audit/alerts        users over the unusual-reading rule now, and alerts raised

Every search, export and alerts view is itself audited with its filters and row count.
Bad filters answer 400 with the reasons on the page.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Blueprint, g, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.audit import AuditEvent, AuditRecord, record
from cases.audit_alerts import ALERT_ACTION, current_rule, unusual_readers
from cases.people import Role
from engine import clock
from web.admin.common import uk_time
from web.auth.guards import roles_required
from web.extensions import db, rollback_only

from .search import LONDON, AuditSearch, SearchInvalid, read_cursor, read_search

bp = Blueprint("audit", __name__, url_prefix="/audit")
bp.add_app_template_filter(uk_time, "audit_time")
PER_PAGE = 50
EXPORT_LIMIT = 10_000
# A cell starting with one of these would be read as a formula by a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("id", "at", "actor", "action", "object_type", "object_id", "case_reference",
               "task_name", "summary", "row_hash")


@bp.before_request
@roles_required(Role.MANAGER, Role.ADMIN)
def _staff_only() -> None:
    """Every page: strangers sign in first, every role but manager and admin gets 403."""
    return None


def _audit(action: str, **summary: Any) -> None:
    record(db(), AuditRecord(at=clock.now(), actor=g.user.name, action=f"audit.{action}",
                             object_type="audit", summary={"via": "web", **summary}))


def _summary_text(row: AuditEvent) -> str:
    return json.dumps(row.summary or {}, sort_keys=True, ensure_ascii=False)


@bp.get("")
def search() -> tuple[str, int] | str:
    """One page of matching audit rows, newest first."""
    try:
        found = read_search(request.args)
        before = read_cursor(request.args, "before")
        after = read_cursor(request.args, "after")
    except SearchInvalid as exc:
        rollback_only()
        return render_template("audit/search.html", errors=exc.errors, values=request.args,
                               rows=[], search=None), 400
    stmt = found.statement()
    if after is not None:
        rows = list(reversed(db().scalars(stmt.where(AuditEvent.id > after)
                                          .order_by(AuditEvent.id).limit(PER_PAGE)).all()))
    else:
        if before is not None:
            stmt = stmt.where(AuditEvent.id < before)
        rows = list(db().scalars(stmt.order_by(AuditEvent.id.desc()).limit(PER_PAGE)))
    base = found.statement().with_only_columns(AuditEvent.id).limit(1)
    older = bool(rows) and db().scalar(base.where(AuditEvent.id < rows[-1].id)) is not None
    newer = bool(rows) and db().scalar(base.where(AuditEvent.id > rows[0].id)) is not None
    _audit("searched", filters=found.args(), before=before, after=after, shown=len(rows))
    return render_template("audit/search.html", errors={}, values=found.args(), rows=rows,
                           search=found, older=older, newer=newer, summary=_summary_text)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@bp.get("/export.csv")
def export() -> Response | tuple[str, int]:
    """The search as CSV, newest first, capped at ``EXPORT_LIMIT`` rows."""
    try:
        found: AuditSearch = read_search(request.args)
    except SearchInvalid as exc:
        rollback_only()
        return render_template("audit/search.html", errors=exc.errors, values=request.args,
                               rows=[], search=None), 400
    rows = db().scalars(found.statement().order_by(AuditEvent.id.desc())
                        .limit(EXPORT_LIMIT)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(v) for v in (
            row.id, row.at.isoformat(), row.actor, row.action, row.object_type, row.object_id,
            row.case_reference, row.task_name, _summary_text(row), row.row_hash)])
    _audit("exported", filters=found.args(), rows=len(rows))
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="audit.csv"',
        "Cache-Control": "no-store"})


@bp.get("/alerts")
def alerts() -> str:
    """Users over the unusual-reading rule in the window ending now, and recent alerts."""
    now, rule = clock.now(), current_rule()
    readers = unusual_readers(db(), now, rule)
    raised = db().scalars(select(AuditEvent).where(AuditEvent.action == ALERT_ACTION)
                          .order_by(AuditEvent.id.desc()).limit(20)).all()
    _audit("alerts_viewed", readers=len(readers), threshold=rule.cases,
           window_minutes=int(rule.window.total_seconds() // 60))
    return render_template("audit/alerts.html", readers=readers, raised=raised, rule=rule,
                           minutes=int(rule.window.total_seconds() // 60),
                           since=(now - rule.window), now=now, london=LONDON)
