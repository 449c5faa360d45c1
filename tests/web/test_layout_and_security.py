"""Security headers, CSRF for session and token callers, layout, error and static pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.exceptions import InternalServerError, ServiceUnavailable

from cases.people import find_user, issue_token
from tests.web.support import csrf_token, make_app, sign_in
from web.extensions import unit

VENDOR = Path(__file__).resolve().parents[2] / "web/static/vendor/govuk-frontend"
NOW_BODY = {"now": "2027-01-04T09:00:00Z"}


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, ASB_TESTING=True)


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(app, name):
    with app.app_context(), unit() as session:
        return {"Authorization": f"Bearer {issue_token(session, find_user(session, name))}"}


def test_session_api_post_without_the_csrf_header_is_refused_as_json(client):
    sign_in(client, "olivia.officer")
    response = client.post("/api/v1/_test/clock", json=NOW_BODY)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert "X-CSRFToken" in response.get_json()["error"]["message"]


def test_session_api_post_with_the_csrf_header_passes(client):
    sign_in(client, "olivia.officer")
    token = csrf_token(client, "/inbox")
    response = client.post("/api/v1/_test/clock", json=NOW_BODY,
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200


def test_bearer_token_api_post_is_not_subject_to_csrf(app):
    client = app.test_client()
    response = client.post("/api/v1/_test/clock", json=NOW_BODY,
                           headers=bearer(app, "olivia.officer"))
    assert response.status_code == 200


def test_a_token_call_ignores_the_session_cookie_beside_it(app, client):
    sign_in(client, "olivia.officer")
    response = client.post("/api/v1/_test/clock", json=NOW_BODY,
                           headers=bearer(app, "ada.admin"))
    assert response.status_code == 200


def test_anonymous_api_calls_are_left_to_the_api_to_refuse(client):
    # No credential to borrow, so no CSRF check: the API itself answers (401 for its routes).
    assert client.post("/api/v1/_test/clock", json=NOW_BODY).status_code == 200


def test_every_response_carries_the_security_headers(client):
    for path in ("/sign-in", "/privacy", "/no-such-page", "/healthz"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{20,}'", csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        for directive in ("default-src 'self'", "style-src 'self'", "object-src 'none'",
                          "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
                          "img-src 'self' data:"):
            assert directive in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"
        assert "camera=()" in headers["Permissions-Policy"]


def test_signed_in_pages_are_never_cached(client):
    sign_in(client, "olivia.officer")
    assert client.get("/inbox").headers["Cache-Control"] == "no-store"


def test_each_page_has_a_fresh_nonce_on_every_script(client):
    sign_in(client, "olivia.officer")
    nonces = set()
    for _ in range(2):
        response = client.get("/inbox")
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
        scripts = re.findall(r"<script\b[^>]*>", response.get_data(as_text=True))
        assert len(scripts) >= 2  # the js-enabled class and the module loader
        for tag in scripts:
            assert f'nonce="{nonce}"' in tag
        nonces.add(nonce)
    assert len(nonces) == 2


def test_no_inline_styles_that_the_policy_would_block(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert "<style" not in html and " style=" not in html


def test_the_councils_name_replaces_gov_uk(client):
    sign_in(client, "pat.owner")
    for path in ("/diagrams", "/accessibility", "/privacy", "/cookies", "/no-such-page"):
        html = client.get(path).get_data(as_text=True)
        assert "Chesterfield Borough Council" in html
        assert "GOV.UK" not in html and "gov.uk" not in html.lower().replace("govuk", "")
        assert "Crown copyright" not in html and "govuk-header__logotype" not in html


def test_navigation_follows_the_role(client):
    sign_in(client, "pat.owner")
    html = client.get("/diagrams").get_data(as_text=True)
    assert 'href="/diagrams"' in html and 'href="/dashboard"' not in html
    assert 'href="/admin"' not in html and "Sign out" in html
    assert 'href="#main-content"' in html  # skip link
    assert "govuk-phase-banner" not in html
    for link in ("/accessibility", "/privacy", "/cookies"):
        assert f'href="{link}"' in html


def test_static_pages_are_public(client):
    assert "legal basis" in client.get("/privacy").get_data(as_text=True).lower()
    assert "asb_session" in client.get("/cookies").get_data(as_text=True)
    assert "WCAG" in client.get("/accessibility").get_data(as_text=True)


def test_vendor_assets_are_served(client):
    assert (VENDOR / "VERSION").read_text().strip() == "6.3.0"

    def fetch(path):
        with client.get(f"/static/{path}") as response:
            return response.status_code, response.mimetype, response.get_data(as_text=True)

    status, mimetype, css = fetch("vendor/govuk-frontend/govuk-frontend.min.css")
    assert (status, mimetype) == (200, "text/css")
    assert "GDS Transport" not in css and "url(/assets" not in css
    for image in re.findall(r"url\((assets/images/[^)]+)\)", css):
        assert fetch(f"vendor/govuk-frontend/{image}")[0] == 200
    status, _, js = fetch("vendor/govuk-frontend/govuk-frontend.min.js")
    assert status == 200 and "initAll" in js
    assert fetch("js/init.js")[0] == 200
    assert fetch("css/council.css")[0] == 200


def test_every_error_page_renders_as_html(tmp_path):
    app = make_app(tmp_path)

    @app.get("/boom/<int:status>")
    def boom(status):
        if status == 500:
            raise RuntimeError("unexpected")
        if status == 503:
            raise ServiceUnavailable()
        from flask import abort
        abort(status)

    client = app.test_client()
    headings = {400: "problem with your request", 401: "You need to sign in",
                403: "You do not have permission", 404: "Page not found",
                405: "not possible here", 413: "too large", 429: "Too many attempts",
                500: "problem with the service", 503: "unavailable"}
    for status, heading in headings.items():
        response = client.get(f"/boom/{status}")
        assert response.status_code == status
        assert response.mimetype == "text/html"
        html = response.get_data(as_text=True)
        assert heading in html and "Chesterfield Borough Council" in html
    assert client.post("/privacy", data={"csrf_token": csrf_token(client)}).status_code == 405


def test_errors_under_api_answer_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "Page not found",
                                             "details": {}}}


def test_a_500_page_does_not_need_the_database(tmp_path):
    app = make_app(tmp_path)

    @app.get("/boom")
    def boom():
        raise InternalServerError()

    app.extensions["asb"]["db"].dispose()
    response = app.test_client().get("/boom")
    assert response.status_code == 500


def test_the_api_itself_applies_the_same_csrf_rule(app, client):
    if "api.claim_task" not in app.view_functions:
        pytest.skip("the JSON API is not registered yet")
    sign_in(client, "olivia.officer")
    refused = client.post("/api/v1/tasks/999999/claim")
    assert refused.status_code in (400, 403)
    assert refused.get_json()["error"]["code"] in ("bad_request", "forbidden")
    token = csrf_token(client, "/inbox")
    with_header = client.post("/api/v1/tasks/999999/claim", headers={"X-CSRFToken": token})
    assert with_header.status_code == 404
    by_token = app.test_client().post("/api/v1/tasks/999999/claim",
                                      headers=bearer(app, "olivia.officer"))
    assert by_token.status_code == 404
