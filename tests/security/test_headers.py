"""Every page and API answer carries the security headers; GETs change nothing; logs hold no keys.

The walk reuses the role-by-route table (tests/web/test_route_roles.py): every GET route of
POLICY is opened as every role, so a page added there is checked here too.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from sqlalchemy import MetaData, select
from werkzeug.serving import make_server

from engine import clock
from tests.api.support import XMAS_EVE, make_api
from tests.web.test_route_roles import POLICY, WHO, _build, _client, _path
from web.log_filter import scrub

NONCE_RE = re.compile(r"'nonce-([A-Za-z0-9_-]{16,})'")
SCRIPT_RE = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
GET_ROUTES = sorted(rule for method, rule in POLICY if method == "GET")
# Tables a GET may write on purpose: the audit trail (every view of personal data is
# recorded) and the failure counters of the reporters' and partners' doors.
MAY_CHANGE = {"audit_events", "reporter_attempts"}
# Columns a GET may fill: a letter's PDF is rendered once, the first time it is needed (by
# delivery or a download), and kept, so every copy is the one that was posted.
MAY_FILL = {"outbox_messages": {"pdf"}}


def check_headers(response: Any, where: str) -> str | None:
    """Assert the headers every answer must carry; return the CSP nonce of a page."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";"))
    assert directives.get("object-src") == "'none'", where
    assert directives.get("base-uri") == "'none'", where
    assert directives.get("frame-ancestors") == "'none'", where
    assert "unsafe-inline" not in directives.get("script-src", ""), where
    assert "unsafe-eval" not in directives.get("script-src", ""), where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer",
                                              "strict-origin-when-cross-origin"), where
    assert headers.get("Strict-Transport-Security", "").startswith("max-age=31536000"), where
    assert "no-store" in headers.get("Cache-Control", ""), where
    found = NONCE_RE.search(directives.get("script-src", ""))
    if response.mimetype == "text/html":
        assert found, where
        for tag in SCRIPT_RE.findall(response.get_data(as_text=True)):
            assert f'nonce="{found.group(1)}"' in tag, (where, tag)
    return found.group(1) if found else None


@pytest.mark.parametrize("who", ["anon", "olivia", "tara", "maria", "adam", "petra", "paul"])
def test_every_page_carries_the_headers_with_a_fresh_nonce(tmp_path, who):
    fixture = _build(tmp_path)
    client, _csrf = _client(fixture.api, who)
    nonces: list[str] = []
    for rule in GET_ROUTES:
        response = client.get(_path(rule, fixture.values))
        nonce = check_headers(response, f"{who} GET {rule} -> {response.status_code}")
        response.close()
        if nonce:
            nonces.append(nonce)
    assert len(nonces) > 20 and len(set(nonces)) == len(nonces), "a nonce was reused"


def test_the_api_carries_the_headers_and_is_never_cached(tmp_path):
    clock.set_now(XMAS_EVE)
    api = make_api(tmp_path)
    ref = api.open_case()["reference"]
    for path in (f"/api/v1/cases/{ref}", f"/api/v1/cases/{ref}/tasks", "/api/v1/tasks",
                 "/api/v1/cases/NOPE-1", "/api/openapi.json"):
        for who in ("olivia", None):
            response = api.get(path, who)
            check_headers(response, f"{who} GET {path} -> {response.status_code}")


def test_hsts_can_be_turned_off_for_a_development_box(tmp_path):
    api = make_api(tmp_path, ASB_HSTS_SECONDS=0)
    assert "Strict-Transport-Security" not in api.client().get("/sign-in").headers


def _session_cookie(response: Any) -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie")
                 if c.startswith("asb_session=")]
    return cookie


def test_the_session_cookie_is_secure_httponly_and_samesite(tmp_path):
    api = make_api(tmp_path)
    cookie = _session_cookie(api.client().get("/sign-in"))  # the CSRF token starts a session
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "secure" in attributes and "httponly" in attributes
    assert attributes["samesite"].split("=")[1].strip().lower() in ("lax", "strict")


def test_plain_http_development_drops_only_secure_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="web.security"):
        api = make_api(tmp_path, ASB_DEV_HTTP=True)
    cookie = _session_cookie(api.client().get("/sign-in")).lower()
    assert "secure" not in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "NOT marked Secure" in caplog.text


def _snapshot(api: Any) -> dict[str, list[tuple[Any, ...]]]:
    engine = api.app.extensions["asb"]["db"]
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(select(*(
            column for column in table.columns
            if column.name not in MAY_FILL.get(name, set())))).all()), key=repr)
                for name, table in meta.tables.items() if name not in MAY_CHANGE}


@pytest.mark.parametrize("who", WHO)
def test_no_get_changes_the_database(tmp_path, who):
    fixture = _build(tmp_path)
    client, _csrf = _client(fixture.api, who)
    before = _snapshot(fixture.api)
    for rule in GET_ROUTES:
        client.get(_path(rule, fixture.values)).close()
    after = _snapshot(fixture.api)
    changed = {name: (len(before[name]), len(after.get(name, [])))
               for name in before if before[name] != after.get(name)}
    assert changed == {}, f"{who}: tables a GET changed (rows before, after)"


SECRET_URLS = ("/follow/Kx7-secret-link-key?utm=1", "/partner/link/tok3n-of-the-partner",
               "/cases?q=Smith+12+High+Street")


def test_the_access_log_holds_no_link_keys_or_queries(tmp_path, caplog):
    api = make_api(tmp_path)
    server = make_server("127.0.0.1", 0, api.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in SECRET_URLS:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}",  # noqa: S310
                                           timeout=10).close()
                except urllib.error.HTTPError as exc:
                    exc.close()
    finally:
        server.shutdown()
        server.server_close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert sum("/follow/[redacted]" in line for line in lines) == 1
    assert sum("/partner/link/[redacted]" in line for line in lines) == 1
    assert sum("/cases?[redacted]" in line for line in lines) == 1
    for secret in ("Kx7", "tok3n", "Smith", "utm"):
        assert not any(secret in line for line in lines), secret


def test_gunicorn_access_records_are_scrubbed_too(tmp_path, caplog):
    make_api(tmp_path)  # installs the filter
    atoms = {"r": "GET /follow/Kx7-secret?x=1 HTTP/1.1", "U": "/follow/Kx7-secret",
             "q": "x=1", "s": "200", "f": "https://asb.example/partner/link/tok3n?a=b"}
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logging.getLogger("gunicorn.access").info('"%(r)s" %(s)s %(U)s %(q)s "%(f)s"', atoms)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "gunicorn.access"]
    assert "Kx7" not in line and "tok3n" not in line and "x=1" not in line, line
    assert "/follow/[redacted]" in line and "/partner/link/[redacted]" in line


def test_scrub_keeps_ordinary_paths():
    assert scrub('"GET /cases/ASB-2026-0001 HTTP/1.1" 200 -') == (
        '"GET /cases/ASB-2026-0001 HTTP/1.1" 200 -')
    assert scrub("/follow") == "/follow"
