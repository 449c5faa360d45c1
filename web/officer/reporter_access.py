"""The officer's side of the reporters' door: issue, re-issue and revoke a reporter's access.

URL map (blueprint ``reporter_officer``; officers and team leaders who may see the case):
    POST /cases/<reference>/reporter-access           issue()   new code (+ link by e-mail)
    POST /cases/<reference>/reporter-access/revoke    revoke()

Template globals for the case file and the phone tasks: ``reporter_access_state(case)`` and
``reporter_phone_note(case)``. A new code is shown once, on the page the POST answers with.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cases.people import Role
from cases.records import Case
from cases.reporter_access import (
    access_ends_at,
    current_access,
    display_code,
    is_live,
    issue_access,
    revoke_access,
    submissions_of,
)
from engine import clock
from tasks import reporter_portal
from tasks.reporter_portal_view import KIND_WORDS
from web.auth.guards import roles_required
from web.extensions import db

from .case_access import audit, user, viewable_case

bp = Blueprint("reporter_officer", __name__)
guard = roles_required(Role.OFFICER, Role.TEAM_LEADER)


def _days() -> int:
    from web.reporter.access import setting

    return int(setting("ASB_REPORTER_ACCESS_DAYS"))


def _working_case(reference: str) -> Case:
    case, via_break_glass = viewable_case(reference)
    if via_break_glass:
        abort(403)
    return case


@bp.post("/cases/<reference>/reporter-access")
@guard
def issue(reference: str) -> tuple[str, int]:
    """Give the reporter a new code and link (the old ones stop working at once)."""
    case = _working_case(reference)
    how = request.form.get("how")
    if how not in ("show", "email"):
        abort(400)
    now = clock.now()
    issued = issue_access(db(), case, by=user().name, at=now, valid_days=_days())
    emailed = False
    if how == "email":
        link = url_for("reporter.follow_link", key=issued.token, _external=True)
        emailed = reporter_portal.send_access(db(), case, issued, link, now=now)
    audit("reporter_access.issued", case, how=how, emailed=emailed,
          access_id=issued.access.id)
    return render_template("reporter/officer_issued.html", case=case,
                           code=display_code(issued.code), emailed=emailed, how=how), 200


@bp.post("/cases/<reference>/reporter-access/revoke")
@guard
def revoke(reference: str) -> Response:
    """Stop the reporter's code and link working."""
    case = _working_case(reference)
    count = revoke_access(db(), case, by=user().name, at=clock.now())
    audit("reporter_access.revoked", case, revoked=count)
    flash("The reporter's code and link no longer work." if count else
          "The reporter had no working code or link.", "success")
    return redirect(url_for("casefile.case_file", reference=case.reference) + "#reporter-access")


@bp.app_template_global()
def reporter_access_state(case: Case) -> dict[str, Any]:
    """The state of the reporter's access to ``case`` and what they sent, for the case file."""
    session = db()
    access = current_access(session, case)
    now = clock.now()
    if access is None:
        state = "none"
    elif access.revoked_at is not None:
        state = "revoked"
    else:
        state = "live" if is_live(access, case, now) else "expired"
    return {"state": state, "access": access,
            "ends_at": access_ends_at(access, case) if access is not None else None,
            "sent": [(KIND_WORDS.get(row.kind, row.kind), row)
                     for row in submissions_of(session, case)[:20]],
            "anonymous": reporter_portal.is_anonymous(session, case)}


@bp.app_template_global()
def reporter_phone_note(case: Case) -> dict[str, Any]:
    """What to tell a reporter on the phone about following their case."""
    state = reporter_access_state(case)
    return {**state, "reference": case.reference,
            "follow_url": url_for("reporter.follow", _external=True)}
