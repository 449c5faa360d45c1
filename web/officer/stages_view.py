"""Start a stage on a case: referrals, evidence requests, legal action, a case conference.

    GET  /cases/<reference>/actions   the stages an officer may start, by group
    POST /cases/<reference>/actions   start one (``stage`` = its process id)

Only officers and team leaders who may see the case in the ordinary way start stages:
emergency ("break glass") access is for reading, never for starting legal action. A stage
whose first task falls to the caller opens that task straight away.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.people import Role
from cases.records import CaseDataInvalid, CaseStatus
from engine.models import HumanTask, TaskStatus
from tasks import stages as stage_registry
from web.auth.guards import roles_required
from web.extensions import case_engine, db, rollback_only

from .case_access import audit, user, viewable_case
from .timeline import task_path

bp = Blueprint("stages", __name__)
guard = roles_required(Role.OFFICER, Role.TEAM_LEADER)


class StageForm(FlaskForm):
    """Only the CSRF token: the chosen stage is checked against the registry by hand."""


def _options() -> list[tuple[str, list[tuple[str, stage_registry.StageInfo]]]]:
    """(group heading, [(input id, stage)]) in the registry's group order; the first input's
    id is ``stage`` so the error summary's link lands on it."""
    grouped: dict[str, list[stage_registry.StageInfo]] = {}
    for info in sorted(stage_registry.STAGES.values(), key=lambda s: s.title):
        grouped.setdefault(info.group, []).append(info)
    options, first = [], True
    for group, heading in stage_registry.GROUPS.items():
        items = []
        for info in grouped.get(group, []):
            items.append(("stage" if first else f"stage-{info.process_id}", info))
            first = False
        if items:
            options.append((heading, items))
    return options


def _page(reference: str, error: str | None = None, chosen: str = "", status: int = 200
          ) -> tuple[str, int]:
    case, _ = viewable_case(reference)
    running = [(stage_registry.STAGES[row.process_id].title, row.created_at)
               for row in stage_registry.running_stages(db(), case_engine(), case.reference)]
    return render_template("casefile/actions.html", case=case, groups=_options(), error=error,
                           chosen=chosen, running=running, form=StageForm(),
                           closed=case.status is not CaseStatus.OPEN), status


def _own_case(reference: str) -> Any:
    case, by_break_glass = viewable_case(reference)
    if by_break_glass:
        abort(403)
    return case


@bp.get("/cases/<reference>/actions")
@guard
def choose(reference: str) -> tuple[str, int]:
    """The stages that can be started on this case."""
    _own_case(reference)
    return _page(reference)


@bp.post("/cases/<reference>/actions")
@guard
def start(reference: str) -> Response | tuple[str, int]:
    """Start the chosen stage; refuse with a message and change nothing."""
    case = _own_case(reference)
    if not StageForm().validate():
        abort(400)
    chosen = str(request.form.get("stage", ""))[:100]
    if not chosen:
        return _page(reference, "Select what you want to start", status=400)
    try:
        row = stage_registry.start_stage(db(), case_engine(), case.reference, chosen,
                                         actor=user().name)
    except CaseDataInvalid as exc:
        rollback_only()
        return _page(reference, exc.message[:1].upper() + exc.message[1:], chosen, status=400)
    title = stage_registry.STAGES[chosen].title
    audit("stage.started", case, process_id=chosen, instance_id=row.id)
    first = db().scalars(select(HumanTask).where(
        HumanTask.instance_id == row.id, HumanTask.state == TaskStatus.OPEN,
        HumanTask.assignee == user().name).order_by(HumanTask.created_at)).first()
    flash(f"“{title}” started on case {case.reference}", "success")
    if first is not None:
        return redirect(task_path(first))
    return redirect(url_for("casefile.case_file", reference=case.reference))
