"""Error answers: GOV.UK-style HTML pages for browsers, the API's JSON shape under /api/."""

from __future__ import annotations

import logging

from flask import (
    Flask,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, PendingRollbackError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

# status: (API error code, page heading, what the person can do next)
ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "Sorry, there is a problem with your request",
          "Go back, check what you entered and try again."),
    401: ("unauthorized", "You need to sign in",
          "Sign in to use this service."),
    403: ("forbidden", "You do not have permission to see this page",
          "If you think you should have access, contact your team leader or an administrator."),
    404: ("not_found", "Page not found",
          "If you typed the web address, check it is correct. If you pasted the web address, "
          "check you copied the entire address."),
    405: ("method_not_allowed", "Sorry, that action is not possible here",
          "Go back and use the page's own links and buttons."),
    409: ("conflict", "Someone else changed this meanwhile",
          "Go back, reload the page and check it before you try again."),
    413: ("too_large", "The file or form you sent is too large",
          "Go back and send a smaller file."),
    422: ("validation_failed", "Sorry, there is a problem with what you entered",
          "Go back, check what you entered and try again."),
    429: ("too_many_requests", "Too many attempts",
          "Wait a few minutes, then try again."),
    500: ("internal_error", "Sorry, there is a problem with the service",
          "Try again later. Nothing you entered has been saved."),
    503: ("unavailable", "Sorry, the service is unavailable",
          "Try again later."),
}
DATABASE_HELP = ("The case database did not answer, so nothing you sent was saved. Wait a "
                 "moment, then try again.")
RETRY_AFTER_SECONDS = 5
log = logging.getLogger(__name__)
CSRF_HELP = ("Your form could not be checked: it may have expired or been sent from another "
             "page. Go back, reload the page and try again.")


def init_app(app: Flask) -> None:
    """Answer every HTTP error and any unexpected exception with a page (or API JSON)."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _http_error)
    app.register_error_handler(DBAPIError, database_unavailable)
    app.register_error_handler(PendingRollbackError, database_unavailable)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _answer(status: int, message: str | None = None) -> tuple[Response | str, int]:
    code, heading, help_text = ERRORS.get(status, ERRORS[500 if status >= 500 else 400])
    if _wants_json():
        body = {"error": {"code": code, "message": message or heading, "details": {}}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, heading=heading,
                           help_text=message or help_text), status


def _http_error(error: HTTPException) -> Response | HTTPException:
    original = getattr(error, "original_exception", None)
    if original is not None and _connection_lost(original):
        return database_unavailable(original)  # e.g. the commit after the view met a dead link
    status = error.code or 500
    if status < 400:
        return error  # redirects raised as exceptions (e.g. RequestRedirect) pass through
    body, status = _answer(status)
    response = make_response(body, status)
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        value = dict(error.get_headers()).get(name)
        if value:
            response.headers[name] = value
    return response


def _connection_lost(error: BaseException) -> bool:
    """True for a lost or refused connection, also when noticed later in the same request."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OperationalError) or (
                isinstance(seen, DBAPIError) and seen.connection_invalidated):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def database_unavailable(error: DBAPIError | PendingRollbackError) -> Response:
    """The database went away (restart, failover, network) or is busy: 503, try again.

    The transaction was rolled back, so nothing was saved; any other database error (a bug)
    stays a 500.
    """
    if not _connection_lost(error):
        raise error
    cause = getattr(error, "orig", None) or error
    # The driver's own first line (a connection error, never the statement or its values).
    log.warning("database unavailable: %s: %s", type(cause).__name__,
                str(cause).splitlines()[0][:200] if str(cause) else "")
    g.rollback_only = True  # the request's session is rolled back, never committed
    # The page must not touch the database again: no user to reload, the council's name from
    # the fallback.
    g.database_lost = True
    g.user, g.auth = None, None
    body, status = _answer(503, DATABASE_HELP)
    response = make_response(body, status)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _csrf_error(error: CSRFError) -> Response | tuple[Response | str, int]:
    if g.get("session_expired") and not _wants_json():
        # The token went with the timed-out session: ask for a sign-in, not a reload.
        flash("You have been signed out to protect case information. Sign in again.")
        return redirect(url_for("auth.sign_in"))
    if _wants_json():
        body = {"error": {"code": "bad_request",
                          "message": "the CSRF token is missing or invalid: send X-CSRFToken",
                          "details": {"csrf_token": error.description}}}
        return jsonify(body), 400
    return _answer(400, CSRF_HELP)
