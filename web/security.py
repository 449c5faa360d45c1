"""CSRF, rate limiting and the security headers every response carries."""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def init_app(app: Flask) -> None:
    """Attach CSRF protection, the rate limiter and the response headers (after identity)."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    csrf = CSRFProtect(app)
    # One limiter per app so that its in-memory counters belong to this app alone.
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://",
                      strategy="fixed-window")
    app.extensions["asb"]["csrf"] = csrf
    app.extensions["asb"]["limiter"] = limiter
    app.before_request(_check_csrf)
    app.after_request(_set_headers)
    app.add_template_global(csp_nonce)


def limiter() -> Limiter:
    """The app's rate limiter."""
    found: Limiter = current_app.extensions["asb"]["limiter"]
    return found


def _check_csrf() -> None:
    """Check the CSRF token on unsafe requests that could ride on the browser's cookie.

    A request carrying an ``Authorization`` header is identified by that header alone (the
    session cookie is not read), and browsers never add one by themselves, so it is exempt.
    An anonymous API call holds no credential a forger could borrow and answers 401 anyway.
    Everything else (signed-in sessions, anonymous forms such as sign-in) must send the token
    in the form or in ``X-CSRFToken``.
    """
    if request.method not in UNSAFE_METHODS:
        return
    if g.get("auth") == "token" or g.get("bad_token"):
        return
    if request.path.startswith("/api/") and g.get("auth") != "session":
        return
    current_app.extensions["asb"]["csrf"].protect()


def csp_nonce() -> str:
    """This request's CSP nonce, for the ``nonce`` attribute of every ``<script>``."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    nonce: str = g.csp_nonce
    return nonce


def content_security_policy(nonce: str) -> str:
    """The Content-Security-Policy header value for a response with script ``nonce``."""
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ))


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        # Pages and API answers may show case data: never keep them in any cache.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response
