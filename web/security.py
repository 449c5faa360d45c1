"""CSRF, rate limiting and the security headers every response carries."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from . import log_filter

log = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS_SECONDS = 31536000  # one year
# endpoint -> a view that re-shows its upload form when the body was over MAX_CONTENT_LENGTH
TooLargePage = Callable[..., Any]


def init_app(app: Flask) -> None:
    """Attach CSRF protection, the rate limiter and the response headers (after identity)."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    if _setting(app, "DEV_HTTP"):
        # Plain-http development on a host other than localhost: a Secure cookie would never
        # come back, so sign-in could not work. Never set this where the service is live.
        app.config["SESSION_COOKIE_SECURE"] = False
        log.warning("ASB_DEV_HTTP=1: the session cookie is NOT marked Secure. Development only.")
    csrf = CSRFProtect(app)
    # One limiter per app so that its in-memory counters belong to this app alone.
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://",
                      strategy="fixed-window")
    app.extensions["asb"]["csrf"] = csrf
    app.extensions["asb"]["limiter"] = limiter
    app.before_request(_check_csrf)
    app.after_request(_set_headers)
    app.add_template_global(csp_nonce)
    app.extensions["asb"]["too_large_pages"] = {}
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    log_filter.install()  # no link keys or query strings in the access logs


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


def _setting(app: Flask, name: str) -> Any:
    """``ASB_<name>`` from test config, or ``<name>`` (Flask strips the prefix from the env)."""
    return app.config.get(f"ASB_{name}", app.config.get(name))


def add_too_large_page(app: Flask, endpoint: str, page: TooLargePage) -> None:
    """Answer an over-size body sent to ``endpoint`` with ``page`` (its form, re-shown)."""
    app.extensions["asb"]["too_large_pages"][endpoint] = page


def _too_large(error: RequestEntityTooLarge) -> Any:
    """A body over the limit: the upload form again with a message, else the error page.

    Nothing of the body was read, so its CSRF token could not be checked either: the page
    shown changes nothing.
    """
    page = current_app.extensions["asb"]["too_large_pages"].get(request.endpoint)
    if page is not None:
        # The body is never parsed: the page (and its guard's pages) see an empty form.
        request.form = request.files = ImmutableMultiDict()  # type: ignore[misc]
        return page(**(request.view_args or {}))
    # Anywhere else: whatever answers HTTP errors there (the API's JSON, the error page).
    for name in (*request.blueprints, None):
        handler = current_app.error_handler_spec[name][None].get(HTTPException)
        if handler is not None:
            return handler(error)
    return error


def _set_headers(response: Response) -> Response:
    headers = response.headers
    if "Content-Security-Policy" not in headers:  # a download may set a stricter one
        headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    # Always sent: browsers ignore it over plain http (RFC 6797 8.1), and behind a proxy that
    # ends TLS the app cannot see https unless ProxyFix is configured.
    seconds = _setting(current_app, "HSTS_SECONDS")
    seconds = HSTS_SECONDS if seconds is None else int(seconds)
    if seconds > 0:
        headers["Strict-Transport-Security"] = f"max-age={seconds}; includeSubDomains"
    if request.endpoint != "static":
        # Pages and API answers may show case data: never keep them in any cache.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response
