"""Diagrams: upload a draft, read it back byte-for-byte, publish it."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from engine.models import DefinitionVersion
from web.access import DIAGRAM_EDITORS, DIAGRAM_READERS
from web.extensions import case_engine, db

from .common import audit, require_role
from .drafts import MAX_BYTES, DraftBook, NotADiagram, encode_source, errors
from .errors import ApiError

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
XML_TYPES = ("application/xml", "text/xml", "application/bpmn+xml", "application/dmn+xml")


def _book() -> DraftBook:
    return DraftBook(case_engine().definitions, Path(current_app.config["BPMN_DIR"]))


def _read_upload() -> bytes:
    if request.mimetype not in XML_TYPES:
        raise ApiError(415, "send the diagram as application/xml")
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise ApiError(413, "a diagram may be at most 5 MB")
    try:
        raw = request.stream.read(MAX_BYTES + 1)
    except RequestEntityTooLarge:
        raise ApiError(413, "a diagram may be at most 5 MB") from None
    if len(raw) > MAX_BYTES:
        raise ApiError(413, "a diagram may be at most 5 MB")
    return raw


def upload_diagram() -> tuple[Response, int]:
    """``POST /diagrams``: store the file as a draft; 422 unless well-formed BPMN/DMN XML."""
    user = require_role(DIAGRAM_EDITORS, "only process owners and admins may upload diagrams")
    raw = _read_upload()
    session = db()
    try:
        draft = _book().upload(session, raw, user.name)
    except NotADiagram as exc:
        raise ApiError(422, "not a well-formed BPMN or DMN document", exc.details) from None
    body = draft.describe()
    audit(session, "api.diagram_uploaded", "definition", str(body["id"]),
          process_ids=body["process_ids"], version=body["version"],
          executable=body["executable"])
    return jsonify(body), 201


def _version(diagram_id: int) -> DefinitionVersion:
    row = db().get(DefinitionVersion, diagram_id) if diagram_id <= MAX_ID else None
    if row is None:
        raise ApiError(404, "no such diagram")
    return row


def get_diagram(diagram_id: int) -> Response:
    """``GET /diagrams/{id}``: the XML exactly as uploaded (or as shipped)."""
    require_role(DIAGRAM_READERS, "your role may not read diagrams")
    row = _version(diagram_id)
    text = _book().source(row)
    audit(db(), "api.diagram_viewed", "definition", str(row.id), process_id=row.process_id)
    return Response(encode_source(text), status=200, mimetype="application/xml")


def publish_diagram(diagram_id: int) -> Response:
    """``POST /diagrams/{id}/publish``: new cases use it; 422 with the problems if it cannot run."""
    user = require_role(DIAGRAM_EDITORS, "only process owners and admins may publish diagrams")
    session = db()
    draft = _book().publish(session, _version(diagram_id), user.name)
    if not draft.executable:
        details = {p["element_id"]: p["message"] for p in errors(draft.problems)}
        raise ApiError(422, "the diagram cannot run", details, problems=draft.problems)
    body = draft.describe()
    audit(session, "api.diagram_published", "definition", str(body["id"]),
          process_ids=body["process_ids"], version=body["version"])
    for caller in draft.callers:
        audit(session, "api.diagram_published", "definition", str(caller.id),
              process_ids=[caller.process_id], version=caller.version,
              calls=body["process_ids"])
    return jsonify(body)
