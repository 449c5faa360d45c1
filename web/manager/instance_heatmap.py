"""Per process version: where its instances are now, and the mean time spent at each step.

The page draws the figures on the version's diagrams (``instance_diagram.js``: a heat colour
and a badge per element) and lists the same figures in a table, so nothing depends on the
drawing. Each view is audited (``page.heatmap_listed``, ``page.heatmap_viewed``).
"""

from __future__ import annotations

from flask import abort, jsonify, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from engine.instance_view import step_figures
from engine.models import DefinitionVersion, InstanceStatus, ProcessInstance
from web.extensions import db

from .instance_diagrams import duration_words, heat_views
from .instance_list import MAX_ID
from .instances import audit

ENDED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)


def version_or_404(session: Session, version_id: int) -> DefinitionVersion:
    """The definition version with that id, or a 404 page."""
    row = session.get(DefinitionVersion, version_id) if 0 < version_id <= MAX_ID else None
    if row is None:
        abort(404)
    return row


def heatmaps() -> str:
    """Every version with instances, with how many are live, to choose a heatmap."""
    session = db()
    live = dict(session.execute(
        select(ProcessInstance.definition_id, func.count())
        .where(ProcessInstance.status.not_in(ENDED))
        .group_by(ProcessInstance.definition_id)).all())
    total = dict(session.execute(
        select(ProcessInstance.definition_id, func.count())
        .group_by(ProcessInstance.definition_id)).all())
    versions = list(session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.id.in_(list(total))).order_by(DefinitionVersion.process_id,
                                                        DefinitionVersion.version.desc())))
    audit("heatmap_listed", versions=len(versions))
    return render_template("manager/instances_heatmaps.html", versions=versions, live=live,
                           total=total)


def heatmap(version_id: int) -> str:
    """One version's heatmap page: the diagram (drawn by script) and the figures as a table."""
    session = db()
    version = version_or_404(session, version_id)
    figures = step_figures(session, version.id)
    views, _ = heat_views(session, version, figures)
    titles = {eid: name for v in views for eid, name in v.index.steps}
    rows = [(f, titles.get(f.element_id, f.title), duration_words(f.average_seconds))
            for f in figures]
    audit("heatmap_viewed", version=version.id, process=version.process_id, steps=len(rows))
    return render_template("manager/instances_heatmap.html", version=version, rows=rows,
                           drawn=bool(views))


def heatmap_json(version_id: int) -> Response:
    """The heatmap's diagrams and figures per element, for ``instance_diagram.js``."""
    session = db()
    version = version_or_404(session, version_id)
    views, diagrams = heat_views(session, version, step_figures(session, version.id))
    audit("heatmap_viewed", version=version.id, process=version.process_id, json=True)
    return jsonify({"mode": "heatmap", "version": version.id,
                    "views": [v.as_json() for v in views], "diagrams": diagrams,
                    "current": views[0].key if views else None})
