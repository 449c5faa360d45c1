"""The JSON API under ``/api/v1`` (API.md) and its OpenAPI document at ``/api/openapi.json``.

The URL map of the blueprint is this file; the views live in feature modules.
"""

from __future__ import annotations

from flask import Blueprint, Flask, request

from . import cases, diagrams, errors, openapi, tasks
from .common import JSON_LIMIT, authenticate
from .drafts import MAX_BYTES

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs = Blueprint("api_docs", __name__, url_prefix="/api")

bp.add_url_rule("/cases", view_func=cases.create_case, methods=["POST"])
bp.add_url_rule("/cases/<reference>", view_func=cases.get_case, methods=["GET"])
bp.add_url_rule("/cases/<reference>/tasks", view_func=cases.case_tasks, methods=["GET"])
bp.add_url_rule("/cases/<reference>/incidents", view_func=cases.add_incident, methods=["POST"])
bp.add_url_rule("/tasks", view_func=tasks.list_tasks, methods=["GET"])
bp.add_url_rule("/tasks/<task_id>", view_func=tasks.get_task, methods=["GET"])
bp.add_url_rule("/tasks/<task_id>/claim", view_func=tasks.claim_task, methods=["POST"])
bp.add_url_rule("/tasks/<task_id>/complete", view_func=tasks.complete_task, methods=["POST"])
bp.add_url_rule("/diagrams", view_func=diagrams.upload_diagram, methods=["POST"])
bp.add_url_rule("/diagrams/<int:diagram_id>", view_func=diagrams.get_diagram, methods=["GET"])
bp.add_url_rule("/diagrams/<int:diagram_id>/publish", view_func=diagrams.publish_diagram,
                methods=["POST"])
docs.add_url_rule("/openapi.json", view_func=openapi.openapi_json, methods=["GET"])


@bp.before_request
def _before() -> None:
    request.max_content_length = MAX_BYTES if request.endpoint == "api.upload_diagram" \
        else JSON_LIMIT
    authenticate()


errors.init_blueprint(bp)
errors.init_blueprint(docs)


def init_app(app: Flask) -> None:
    """Register the API and its document (routing errors under /api/ answer JSON via web.errors)."""
    app.register_blueprint(bp)
    app.register_blueprint(docs)
