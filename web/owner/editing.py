"""The editors (bpmn-js and dmn-js) and what they call: the XML, checks, and saving drafts.

The editor pages load the XML from ``source`` (or a shipped decision table's), check it
while it is edited by posting it to ``check``, and save it with ``save_draft``: the XML
as the body (``application/xml``), the CSRF token in ``X-CSRFToken``. Both answer JSON.
"""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from engine.models import DefinitionVersion
from web.api.drafts import DMN_PREFIX, MAX_BYTES, NotADiagram, encode_source, read_document
from web.extensions import db

from . import catalog
from .checks import book, bpmn_dir, normalised, problems_of
from .common import MAX_ID, audit, can_edit, editors_only, me, page, version_or_404
from .editor_data import editor_catalog
from .pages import kind_of

XML_TYPES = ("application/xml", "text/xml", "application/bpmn+xml", "application/dmn+xml")


class BadUpload(Exception):
    """The body is not a diagram the editor could have sent; ``status`` says how."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _body() -> bytes:
    if request.mimetype not in XML_TYPES:
        raise BadUpload(415, "Send the diagram as application/xml.")
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise BadUpload(413, "A diagram may be at most 5 MB.")
    try:
        raw = request.stream.read(MAX_BYTES + 1)
    except RequestEntityTooLarge:
        raise BadUpload(413, "A diagram may be at most 5 MB.") from None
    if len(raw) > MAX_BYTES:
        raise BadUpload(413, "A diagram may be at most 5 MB.")
    try:
        read_document(raw)
    except NotADiagram as exc:
        raise BadUpload(422, f"This is not a BPMN or DMN diagram: {exc}") from None
    return raw


def _refused(exc: BadUpload) -> tuple[Response, int]:
    return jsonify({"message": exc.message, "problems": []}), exc.status


def _based_on() -> int | None:
    value = request.args.get("based_on", "")
    return int(value) if value.isdecimal() and 0 < int(value) <= MAX_ID else None


def save_draft() -> tuple[Response, int]:
    """Store the posted XML as a draft (or find the same one saved before); say what is wrong."""
    editors_only()
    try:
        raw = _body()
    except BadUpload as exc:
        return _refused(exc)
    session = db()
    based_on = _based_on()
    if based_on is not None and session.get(DefinitionVersion, based_on) is None:
        based_on = None
    draft = book().upload(session, raw, me().name)
    dmn = kind_of(draft.rows[0]) == "dmn"
    problems = [] if dmn else normalised(draft.problems)
    for row in draft.rows:
        audit(
            "owner.draft_saved",
            row.id,
            process_id=row.process_id,
            version=row.version,
            based_on=based_on,
            executable=draft.executable,
        )
    first = draft.rows[0]
    body: dict[str, Any] = {
        "id": first.id,
        "version": first.version,
        "process_ids": [r.process_id for r in draft.rows],
        "executable": draft.executable,
        "problems": problems,
        "published": first.published,
        "edit_url": url_for("owner.edit", version_id=first.id),
        "version_url": url_for(
            "owner.decision_page", decision_id=first.process_id.removeprefix(DMN_PREFIX)
        )
        if dmn
        else url_for("owner.version", version_id=first.id),
    }
    return jsonify(body), 201


def check() -> tuple[Response, int]:
    """The problems of the posted XML, for the editor to show while it is edited."""
    editors_only()
    try:
        raw = _body()
    except BadUpload as exc:
        return _refused(exc)
    return jsonify({"problems": problems_of(db(), raw)}), 200


def _xml(text: str, filename: str) -> Response:
    response = Response(encode_source(text), status=200, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def source(version_id: int) -> Response:
    """The XML of a version exactly as stored (the editors load it; it is also the export)."""
    row = version_or_404(db(), version_id)
    audit("owner.diagram_exported", row.id, process_id=row.process_id, version=row.version)
    name = row.process_id.removeprefix(DMN_PREFIX)
    return _xml(book().source(row), f"{name}-v{row.version}.{kind_of(row)}")


def edit(version_id: int) -> str:
    """The editor for a version: bpmn-js for a process, dmn-js for a decision table."""
    editors_only()
    session = db()
    row = version_or_404(session, version_id)
    kind = kind_of(row)
    audit("owner.diagram_opened", row.id, process_id=row.process_id, version=row.version)
    data = {
        "kind": kind,
        "version": {
            "id": row.id,
            "version": row.version,
            "process_id": row.process_id,
            "published": row.published,
        },
        "source_url": url_for("owner.source", version_id=row.id),
        "save_url": url_for("owner.save_draft"),
        "check_url": url_for("owner.check"),
        "descriptor_url": url_for("static", filename="js/owner/spiffworkflow.json"),
    }
    if kind == "dmn":
        decision_id = row.process_id.removeprefix(DMN_PREFIX)
        return page("owner/dmn_editor.html", row=row, decision_id=decision_id, data=data)
    data["catalog"] = editor_catalog(session)
    return page("owner/editor.html", row=row, data=data)


def decision_page(decision_id: str) -> str:
    """A decision table: the shipped file and the drafts saved from it."""
    found = catalog.decision(db(), bpmn_dir(), decision_id)
    if found is None:
        abort(404)
    return page("owner/decision.html", decision=found, can_edit=can_edit())


def _shipped(decision_id: str) -> tuple[str, str]:
    shipped = catalog.shipped_decisions(bpmn_dir())
    if decision_id not in shipped:
        abort(404)
    return shipped[decision_id]


def decision_source(decision_id: str) -> Response:
    """The shipped DMN file of a decision table."""
    filename, text = _shipped(decision_id)
    audit("owner.diagram_exported", None, decision_id=decision_id, file=filename)
    return _xml(text, filename)


def decision_edit(decision_id: str) -> str:
    """The dmn-js editor on the shipped decision table."""
    editors_only()
    filename, _text = _shipped(decision_id)
    audit("owner.diagram_opened", None, decision_id=decision_id, file=filename)
    data = {
        "kind": "dmn",
        "version": None,
        "source_url": url_for("owner.decision_source", decision_id=decision_id),
        "save_url": url_for("owner.save_draft"),
        "check_url": url_for("owner.check"),
    }
    return page("owner/dmn_editor.html", row=None, decision_id=decision_id, data=data)
