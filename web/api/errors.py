"""The API's one error shape, and handlers that never let a client's mistake become a 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from web.errors import database_unavailable
from web.extensions import rollback_only

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large",
         415: "unsupported_media_type", 422: "validation_failed", 500: "internal_error"}
MESSAGES = {400: "the request is malformed", 401: "a valid API token or session is required",
            403: "you may not do this", 404: "no such object", 405: "method not allowed here",
            409: "the object changed meanwhile", 413: "the request body is too large",
            415: "unsupported content type", 422: "the request has invalid fields",
            500: "something went wrong on our side"}


class ApiError(Exception):
    """A refusal to answer with the API's error shape; the request's work is rolled back."""

    def __init__(self, status: int, message: str | None = None,
                 details: dict[str, str] | None = None, **extra: Any) -> None:
        self.status = status
        self.code = CODES.get(status, "error")
        self.message = message or MESSAGES.get(status, "error")
        self.details = details or {}
        self.extra = extra
        super().__init__(self.message)


def error_response(status: int, message: str | None = None,
                   details: dict[str, str] | None = None, **extra: Any) -> tuple[Response, int]:
    """Build ``{"error": {code, message, details}}`` (plus any extra keys) for ``status``."""
    body: dict[str, Any] = {"code": CODES.get(status, "error"),
                            "message": message or MESSAGES.get(status, "error"),
                            "details": details or {}}
    body.update(extra)
    return jsonify({"error": body}), status


def _api_error(exc: ApiError) -> tuple[Response, int]:
    rollback_only()
    return error_response(exc.status, exc.message, exc.details, **exc.extra)


def _http_error(exc: HTTPException) -> tuple[Response, int]:
    rollback_only()
    status = exc.code or 500
    if status not in CODES:
        status = 400 if 400 <= status < 500 else 500
    response = error_response(status)
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        response[0].headers["Allow"] = ", ".join(allowed)
    return response


def _unexpected(exc: Exception) -> tuple[Response, int]:
    rollback_only()
    # The path and method only: bodies and headers may hold personal data or tokens.
    log.error("API request %s %s failed: %s", request.method, request.url_rule,
              type(exc).__name__, exc_info=exc)
    return error_response(500)


def init_blueprint(bp: Blueprint) -> None:
    """Answer every error raised in ``bp``'s views in the API's shape."""
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(DBAPIError, database_unavailable)
    bp.register_error_handler(PendingRollbackError, database_unavailable)
    bp.register_error_handler(Exception, _unexpected)
