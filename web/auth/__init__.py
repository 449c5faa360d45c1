"""Signing in and out, the page guards, and the workspace landing pages."""

from __future__ import annotations

from flask import Flask, current_app

from . import account, recovery, sessions
from .home import add_workspace_landing_pages
from .home import bp as home_bp
from .routes import bp

__all__ = ["add_workspace_landing_pages", "init_app"]


def init_app(app: Flask) -> None:
    """Register the sign-in blueprint and throttle sign-in attempts per IP address."""
    app.config.setdefault("ASB_SIGN_IN_RATE", "10 per minute")
    # Each also from the environment: ASB_REQUIRE_TOTP=false, ASB_HIBP_URL=..., ASB_TOTP_KEY=...
    # (``from_prefixed_env`` files those under the name without its ASB_ prefix).
    for key, default in (("REQUIRE_TOTP", True), ("HIBP_URL", None), ("TOTP_KEY", None)):
        app.config.setdefault(f"ASB_{key}", app.config.get(key, default))
    app.register_blueprint(bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(recovery.bp)
    sessions.init_app(app)
    # Wrapped here, per app, so each app's limiter (and its counters) guards its own view;
    # the password and the code steps share one budget per address.
    throttle = app.extensions["asb"]["limiter"].shared_limit(
        lambda: current_app.config["ASB_SIGN_IN_RATE"], scope="sign-in", methods=["POST"])
    _add_admin_reset(app)
    for endpoint in ("auth.sign_in", "auth.two_factor_code", "auth.two_factor_set_up",
                     "account.change_password", "recovery.new_codes"):
        app.view_functions[endpoint] = throttle(app.view_functions[endpoint])


def _add_admin_reset(app: Flask) -> None:
    """An administrator resets a user's 2FA, or signs them out of every session."""
    from cases.people import Role
    from web.admin.users import reset_two_factor, revoke_sessions

    from .guards import roles_required

    app.add_url_rule("/admin/users/<int:user_id>/two-factor/reset", "admin_two_factor_reset",
                     roles_required(Role.ADMIN)(reset_two_factor), methods=["POST"])
    app.add_url_rule("/admin/users/<int:user_id>/sessions/revoke", "admin_sessions_revoke",
                     roles_required(Role.ADMIN)(revoke_sessions), methods=["POST"])
