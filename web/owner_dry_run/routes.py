"""The dry run page: try a draft on a sample case and see, step by step, what it would do.

The run happens in a child process on a throwaway database (``tasks.dry_run``): nothing of it
touches real cases, and no message leaves. The page shows the trace twice: on the diagram
(``web/static/js/owner_dry_run/dry_run.js`` marks each step's elements) and as a list of the
same steps in words, for screen readers and for browsers without the script.

URL map (blueprint ``owner_dry_run``, process owners and administrators only):
    GET   /diagrams/dry-run[?version=<id>]    page()    the form (a version preselected)
    POST  /diagrams/dry-run                   page()    run it; the trace, or the form again
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, g, render_template, request
from sqlalchemy import select

from cases.audit import AuditRecord, record
from engine import clock
from engine.models import DefinitionVersion
from tasks.dry_run import DryRunRequest, payload, run_payload
from web.access import DIAGRAM_EDITORS
from web.api.drafts import DraftBook
from web.auth.guards import roles_required
from web.extensions import case_engine, db, rollback_only

from .forms import OPTIONS, PACE_LABELS, DryRunForm, Errors, read, sample_choices, version_choices
from .trace_view import diagram_data, page_trace

bp = Blueprint("owner_dry_run", __name__, url_prefix="/diagrams/dry-run")
TEMPLATE = "owner_dry_run/dry_run.html"
BUSY_WAIT_SECONDS = 30
# Each run is a child process for up to two minutes: a few at a time per web process.
_RUNNING = threading.BoundedSemaphore(3)


@bp.before_request
@roles_required(*DIAGRAM_EDITORS)
def _editors_only() -> None:
    """Strangers sign in first; roles other than process owner and admin get 403."""
    return None


def _render(form: DryRunForm, errors: Errors, status: int = 200, **context: Any) -> tuple[str, int]:
    if errors:
        rollback_only()
    return render_template(
        TEMPLATE,
        form=form,
        errors=errors,
        summary=list(errors.items()),
        options=OPTIONS,
        samples=sample_choices(),
        paces=list(PACE_LABELS.items()),
        **context,
    ), status


def _upload_processes(version: DefinitionVersion) -> list[str]:
    """The processes stored from the same upload as ``version`` (a file may define several)."""
    found = db().scalars(
        select(DefinitionVersion.process_id)
        .where(
            DefinitionVersion.content_hash == version.content_hash,
            DefinitionVersion.published.is_(version.published),
        )
        .order_by(DefinitionVersion.id)
    )
    ids = list(dict.fromkeys(found))
    return ids if version.process_id in ids else [version.process_id]


def _audit(version: DefinitionVersion, chosen: dict[str, Any], trace: dict[str, Any]) -> None:
    facts = chosen["sample"].describe()
    record(
        db(),
        AuditRecord(
            at=clock.now(),
            actor=g.user.name,
            action="diagram.dry_run",
            object_type="definition",
            object_id=str(version.id),
            summary={
                "via": "web",
                "process_id": version.process_id,
                "version": version.version,
                "published": version.published,
                "sample": chosen["sample_key"],
                "category": facts["category"],
                "hate_strands": facts["hate_strands"],
                "flags": facts["flags"],
                "channels": facts["contact"],
                "pace": chosen["pace"],
                "answered_tasks": sorted(chosen["answers"]),
                "outcome": trace.get("outcome"),
                "steps": len(trace.get("steps", [])),
            },
        ),
    )


def _run(version: DefinitionVersion, chosen: dict[str, Any]) -> dict[str, Any] | None:
    bpmn_dir = Path(current_app.config["BPMN_DIR"])
    source = DraftBook(case_engine().definitions, bpmn_dir).source(version)
    wanted = DryRunRequest(
        source=source,
        process_ids=_upload_processes(version),
        sample=chosen["sample"],
        answers=chosen["answers"],
        pace=chosen["pace"],
        start_at=chosen["received"],
    )
    data = payload(db(), wanted, bpmn_dir, clock.now())
    # Only read so far: end that transaction, so that no lock on the real database (SQLite
    # takes its write lock with every transaction) is held while the child runs.
    db().commit()
    if not _RUNNING.acquire(timeout=BUSY_WAIT_SECONDS):
        return None
    try:
        return run_payload(data)
    finally:
        _RUNNING.release()


def page() -> tuple[str, int]:
    """The form; on POST, the dry run's trace (or the form again with what to correct)."""
    session = db()
    form = DryRunForm()
    form.version.choices = version_choices(session)
    if request.method == "GET":
        wanted = request.args.get("version", "")
        form.version.data = wanted if wanted.isdecimal() else form.version.data
        form.sample.data = form.sample.data or sample_choices()[0][0]
        return _render(form, {})
    if not form.validate():  # the CSRF token (the app checked it already)
        abort(400)
    chosen, errors = read(form, session)
    if errors:
        return _render(form, errors, 400)
    version: DefinitionVersion = chosen["version"]
    trace = _run(version, chosen)
    if trace is None:
        return _render(
            form, {"version": "Other dry runs are under way: try again in a minute"}, 429
        )
    _audit(version, chosen, trace)
    return _render(form, {}, trace=page_trace(trace), data=diagram_data(trace), tried=version)


bp.add_url_rule("", "page", page, methods=["GET", "POST"])
