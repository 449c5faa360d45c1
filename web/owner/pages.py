"""The process owner's pages: the processes, a process's versions, one version, publishing."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from engine.models import DefinitionVersion
from web.api.drafts import DMN_PREFIX, MAX_BYTES, NotADiagram, read_document
from web.extensions import case_engine, db

from . import catalog
from .checks import Problem, book, bpmn_dir, draft_problems, errors_only
from .common import (
    audit,
    can_edit,
    editors_only,
    me,
    page,
    reason_error,
    refuse,
    version_or_404,
)
from .diff import DiagramDiff, diff_xml
from .forms import PublishForm, UploadForm

Page = str | tuple[str, int] | Response


def index() -> str:
    """Every process (shipped or uploaded) and decision table, with versions and cases."""
    session = db()
    return page(
        "owner/index.html",
        processes=catalog.processes(session),
        decisions=catalog.decisions(session, bpmn_dir()),
        can_edit=can_edit(),
    )


def process_history(process_id: str) -> str:
    """A process's versions: who saved and published each, why, and the cases on it."""
    found = catalog.process(db(), process_id)
    if found is None:
        abort(404)
    return page("owner/process.html", process=found, can_edit=can_edit())


def kind_of(row: DefinitionVersion) -> str:
    """What the version's file is: "bpmn" or "dmn"."""
    return "dmn" if row.process_id.startswith(DMN_PREFIX) else "bpmn"


def in_use(row: DefinitionVersion) -> DefinitionVersion | None:
    """The version of the same process that new cases start on now (if any)."""
    if kind_of(row) == "dmn":
        return None
    return case_engine().definitions.published(db(), row.process_id, missing_ok=True)


def diff_against_use(row: DefinitionVersion) -> tuple[DefinitionVersion | None, DiagramDiff | None]:
    """The version in use and what ``row`` changes from it (None when it is that version)."""
    live = in_use(row)
    if live is None or live.id == row.id:
        return live, None
    return live, diff_xml(book().source(live), book().source(row))


def _version_data(
    row: DefinitionVersion,
    live: DefinitionVersion | None,
    diff: DiagramDiff | None,
    problems: list[Problem],
) -> dict[str, Any]:
    """What ``diff_view.js`` reads: the two diagrams' addresses, the changes, the problems."""
    return {
        "source_url": url_for("owner.source", version_id=row.id),
        "published_source_url": url_for("owner.source", version_id=live.id)
        if live is not None and diff is not None
        else None,
        "changes": diff.as_dict()["changes"] if diff is not None else [],
        "problems": problems,
    }


def version(version_id: int) -> Page:
    """One version: its status, its problems, and what it changes from the version in use."""
    session = db()
    row = version_or_404(session, version_id)
    if kind_of(row) == "dmn":
        return redirect(
            url_for("owner.decision_page", decision_id=row.process_id.removeprefix(DMN_PREFIX))
        )
    draft, problems = draft_problems(session, row)
    live, diff = diff_against_use(row)
    audit("owner.diagram_viewed", row.id, process_id=row.process_id, version=row.version)
    return page(
        "owner/version.html",
        row=row,
        draft=draft,
        problems=problems,
        live=live,
        diff=diff,
        can_edit=can_edit(),
        data=_version_data(row, live, diff, problems),
        dry_run_url=_dry_run_url(row),
    )


def _dry_run_url(row: DefinitionVersion) -> str | None:
    """Where to try the version on a sample case, when the dry-run pages are installed."""
    if "owner_dry_run.page" not in current_app.view_functions:
        return None
    return url_for("owner_dry_run.page", version=row.id)


def _publish_context(row: DefinitionVersion) -> dict[str, Any]:
    draft, problems = draft_problems(db(), row)
    live, diff = diff_against_use(row)
    return {
        "row": row,
        "draft": draft,
        "problems": problems,
        "blocking": errors_only(problems),
        "live": live,
        "diff": diff,
    }


def publish(version_id: int) -> Page:
    """Publish a draft that can run, with the reason; refused (with why) when it cannot."""
    editors_only()
    session = db()
    row = version_or_404(session, version_id)
    if kind_of(row) == "dmn":
        abort(404)
    form = PublishForm()
    context = _publish_context(row)
    template = "owner/publish.html"
    if request.method == "GET":
        return page(template, form=form, **context)
    if not form.validate():
        abort(400)
    if row.published:
        return refuse(
            template,
            {"reason": f"Version {row.version} is already published"},
            form=form,
            **context,
        )
    reason = str(form.reason.data or "").strip()
    if (why := reason_error(reason)) is not None:
        return refuse(template, {"reason": why}, form=form, **context)
    if context["blocking"]:
        count = len(context["blocking"])
        message = (
            f"This version cannot be published: fix the {count} problem"
            f"{'' if count == 1 else 's'} listed first"
        )
        return refuse(template, {"problems": message}, 422, form=form, **context)
    draft = book().publish(session, row, me().name)
    if not draft.executable:  # the shipped diagrams it calls changed since the check
        return refuse(
            template,
            {"problems": "This version cannot run here any more"},
            422,
            form=form,
            **{**context, "problems": draft.problems},
        )
    for published in draft.rows:
        audit(
            "owner.diagram_published",
            published.id,
            process_id=published.process_id,
            version=published.version,
            reason=reason,
            publisher=me().name,
        )
    for caller in draft.callers:
        audit(
            "owner.diagram_published",
            caller.id,
            process_id=caller.process_id,
            version=caller.version,
            reason=f"calls {row.process_id} version {row.version}",
            publisher=me().name,
        )
    callers = "".join(f" {c.name or c.process_id} is now version {c.version}, which calls it."
                      for c in draft.callers)
    flash(
        f"Version {row.version} of {row.name or row.process_id} is published: new cases "
        f"start on it.{callers} Cases already running stay on their version.",
        "success",
    )
    return redirect(url_for("owner.process_history", process_id=row.process_id))


def upload() -> Page:
    """Keep a BPMN or DMN file from another modelling tool as a draft."""
    editors_only()
    form = UploadForm()
    template = "owner/upload.html"
    if request.method == "GET":
        return page(template, form=form)
    if not form.validate():
        abort(400)
    file = form.file.data
    if file is None or not getattr(file, "filename", ""):
        return refuse(template, {"file": "Choose a .bpmn or .dmn file"}, form=form)
    raw = file.stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        return refuse(template, {"file": "The file must be 5 MB or smaller"}, 413, form=form)
    try:
        read_document(raw)
    except NotADiagram as exc:
        return refuse(
            template, {"file": f"The file is not a BPMN or DMN diagram: {exc}"}, form=form
        )
    draft = book().upload(db(), raw, me().name)
    first = draft.rows[0]
    for row in draft.rows:
        audit(
            "owner.diagram_uploaded",
            row.id,
            process_id=row.process_id,
            version=row.version,
            executable=draft.executable,
        )
    flash(f"The file is kept as draft version {first.version}.", "success")
    if kind_of(first) == "dmn":
        return redirect(
            url_for("owner.decision_page", decision_id=first.process_id.removeprefix(DMN_PREFIX))
        )
    return redirect(url_for("owner.version", version_id=first.id))
