"""Request ids and structured logs: one JSON object a line with ``ASB_LOG_FORMAT=json``.

Every request gets an id (the caller's ``X-Request-ID`` when it is well formed, else a new
one) that is echoed in the response and put on every log line written while it is served.
Each request also writes one ``asb.request`` line: method, route template, status and
duration. Nothing else of the request is logged: no path, query string, address or header.
Messages pass through ``log_filter.scrub`` and lose e-mail addresses and bearer tokens too.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, g, has_request_context, request
from werkzeug.wrappers import Response

from . import log_filter

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[^\s\"',]+")
# Fields a log call may pass with ``extra=``; nothing else of a record reaches the line.
REQUEST_FIELDS = ("request_id", "method", "route", "status", "duration_ms")

request_log = logging.getLogger("asb.request")


def init_app(app: Flask) -> None:
    """Give every request an id and a log line; switch to JSON lines when configured."""
    app.before_request(_start)
    app.after_request(_finish)
    fmt = app.config.get("ASB_LOG_FORMAT", app.config.get("LOG_FORMAT"))
    if str(fmt or os.environ.get("ASB_LOG_FORMAT", "")).lower() == "json":
        configure_logging(json_lines=True)


def request_id() -> str | None:
    """This request's id (None outside a request)."""
    if not has_request_context():
        return None
    found: str | None = g.get("request_id")
    return found


def _start() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
    g.log_started = time.perf_counter()


def _finish(response: Response) -> Response:
    rid = g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = rid
    started = g.get("log_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    rule = request.url_rule
    route = rule.rule if rule is not None else "<unmatched>"
    request_log.info("%s %s %s", request.method, route, response.status_code, extra={
        "request_id": rid, "method": request.method, "route": route,
        "status": response.status_code, "duration_ms": duration})
    return response


def clean(text: str) -> str:
    """``text`` without query strings, link keys, e-mail addresses or bearer tokens."""
    text = log_filter.scrub(text)
    text = _BEARER_RE.sub(r"\1[redacted]", text)
    return _EMAIL_RE.sub("[email]", text)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a JSON line with personal data and secrets removed."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": clean(record.getMessage()),
        }
        for field in REQUEST_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if "request_id" not in line and (rid := request_id()):
            line["request_id"] = rid
        if record.exc_info:
            line["error"] = clean(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """The plain text format, cleaned the same way as the JSON lines."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as text with personal data and secrets removed."""
        return clean(super().format(record))


_OURS = "_asb_handler"


def configure_logging(level: str | None = None, *, json_lines: bool | None = None,
                      stream: IO[str] | None = None) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as JSON lines or plain text.

    Idempotent: a second call replaces the handler the first one added. ``json_lines`` None
    reads ``ASB_LOG_FORMAT``; ``level`` None reads ``ASB_LOG_LEVEL`` (default INFO).
    """
    if json_lines is None:
        json_lines = os.environ.get("ASB_LOG_FORMAT", "").lower() == "json"
    root = logging.getLogger()
    for found in list(root.handlers):
        # Ours from an earlier call, and the plain stderr handler logging.basicConfig adds.
        if getattr(found, _OURS, False) or type(found) is logging.StreamHandler:
            root.removeHandler(found)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _OURS, True)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("ASB_LOG_LEVEL", "INFO"))
    for chatty in ("alembic", "spiff", "fontTools"):  # a line per plugin, task state, glyph
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler
