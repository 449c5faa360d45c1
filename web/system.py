"""System endpoints: liveness, readiness, and the test clock (only when ASB_TESTING=1)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from engine import clock

from .extensions import db
from .schema_state import schema_state

bp = Blueprint("system", __name__)
LONDON = ZoneInfo("Europe/London")


def _error(status: int, code: str, message: str, details: dict[str, str] | None = None
           ) -> tuple[Response, int]:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


@bp.get("/healthz")
def health() -> Response:
    """Answer 200 when the database answers.

    Uses the request's own session: a signed-in caller's identity was loaded through it, and on
    SQLite a second session would wait for that one's lock until it timed out.
    """
    db().execute(text("SELECT 1"))
    return jsonify({"status": "ok", "now": clock.now().isoformat().replace("+00:00", "Z")})


@bp.get("/readyz")
def ready() -> tuple[Response, int]:
    """Answer 200 when the database answers at the schema this code expects, else 503.

    A load balancer sends traffic only to a ready process; during an upgrade the new code
    stays out until ``asb db upgrade`` has run. Says why, but never a version or a secret.
    """
    try:
        state = schema_state(db().connection())
    except SQLAlchemyError:
        db().rollback()
        return jsonify({"status": "unavailable", "reason": "database_unavailable"}), 503
    if not state.at_head:
        return jsonify({"status": "unavailable", "reason": "schema_not_at_head"}), 503
    return jsonify({"status": "ready"}), 200


@bp.post("/api/v1/_test/clock")
def set_clock() -> tuple[Response, int] | Response:
    """Set the product clock; exists only in testing mode."""
    if not current_app.config.get("ASB_TESTING"):
        abort(404)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("now"), str):
        return _error(422, "validation_failed", "give the time to set",
                      {"now": "an ISO 8601 time is required"})
    try:
        moment = datetime.fromisoformat(body["now"])
    except ValueError:
        return _error(422, "validation_failed", "not a time", {"now": "not an ISO 8601 time"})
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    clock.set_now(moment, frozen=False)
    worker = current_app.extensions["asb"].get("worker")
    fired = worker.drain() if worker is not None else 0
    return jsonify({"now": clock.now().isoformat().replace("+00:00", "Z"), "woken": fired})
