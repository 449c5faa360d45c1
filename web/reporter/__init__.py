"""The reporters' door: a public report form and a private page for following one's case.

Nobody signs in: a reporter holds a follow-up code and a private link for their own case
(cases/reporter_access.py). See docs/reporter.md for the pages, access rules and the audit.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("reporter", __name__)


def init_app(app: Flask) -> None:
    """Register the reporters' pages, the officers' access controls, and their throttles."""
    from web.officer import reporter_access as officer_routes

    from . import actions, public  # noqa: F401 - the modules add their routes to ``bp``

    app.register_blueprint(bp)
    app.register_blueprint(officer_routes.bp)
    public.throttle(app)
