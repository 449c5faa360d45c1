"""JSON log lines: the request's id, route template, status and time; no personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from tests.ops.support import sqlite_app
from web.logging_setup import JsonFormatter, configure_logging


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Root logging as JSON lines into a buffer; put back as it was afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    chatty = {name: logging.getLogger(name).level for name in ("alembic", "spiff", "fontTools")}
    stream = io.StringIO()
    handler = configure_logging("INFO", json_lines=True, stream=stream)
    yield stream
    root.removeHandler(handler)
    for found in handlers:
        if found not in root.handlers:
            root.addHandler(found)
    root.setLevel(level)
    for name, was in chatty.items():
        logging.getLogger(name).setLevel(was)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_request_line_has_its_route_and_id_but_no_query_email_or_token(tmp_path, json_log):
    client = sqlite_app(tmp_path).test_client()
    response = client.get("/cases/ASB-2026-000123?email=rita@example.org&token=tok-q-123",
                          headers={"Authorization": "Bearer tok-h-456",
                                   "X-Request-ID": "req-0001-abcd"})
    assert response.headers["X-Request-ID"] == "req-0001-abcd"
    with client.application.test_request_context("/privacy"):
        logging.getLogger("web.test").warning(
            "could not send to %s with Bearer %s via /follow/%s?x=1", "rita@example.org",
            "tok-m-789", "linkkey123")
    text = json_log.getvalue()
    for secret in ("rita@example.org", "tok-q-123", "tok-h-456", "tok-m-789", "linkkey123",
                   "?email", "ASB-2026-000123"):
        assert secret not in text
    lines = _lines(json_log)
    (request_line,) = [line for line in lines if line["logger"] == "asb.request"]
    assert request_line["request_id"] == "req-0001-abcd"
    assert request_line["route"] == "/cases/<reference>"
    assert request_line["status"] == 302 and request_line["level"] == "INFO"
    assert isinstance(request_line["duration_ms"], float)
    assert {"time", "message"} <= set(request_line)
    (warning,) = [line for line in lines if line["logger"] == "web.test"]
    assert warning["message"] == ("could not send to [email] with Bearer [redacted] via "
                                  "/follow/[redacted]?[redacted]")


def test_a_malformed_request_id_is_replaced_by_a_new_one(tmp_path):
    client = sqlite_app(tmp_path).test_client()
    given = client.get("/healthz", headers={"X-Request-ID": "no spaces <or> markup"})
    made = given.headers["X-Request-ID"]
    assert made != "no spaces <or> markup" and len(made) == 32
    assert client.get("/healthz").headers["X-Request-ID"] != made


def test_the_app_switches_to_json_lines_when_configured(tmp_path):
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        sqlite_app(tmp_path, ASB_LOG_FORMAT="json")
        assert any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    finally:
        for found in list(root.handlers):
            if found not in handlers:
                root.removeHandler(found)
        root.setLevel(level)
