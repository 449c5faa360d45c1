"""Signing in and out, the page guards, and the workspace landing pages."""

from __future__ import annotations

from flask import Flask, current_app

from .home import add_workspace_landing_pages
from .home import bp as home_bp
from .routes import bp

__all__ = ["add_workspace_landing_pages", "init_app"]


def init_app(app: Flask) -> None:
    """Register the sign-in blueprint and throttle sign-in attempts per IP address."""
    app.config.setdefault("ASB_SIGN_IN_RATE", "10 per minute")
    app.register_blueprint(bp)
    app.register_blueprint(home_bp)
    # Wrapped here, per app, so each app's limiter (and its counters) guards its own view.
    throttle = app.extensions["asb"]["limiter"].limit(
        lambda: current_app.config["ASB_SIGN_IN_RATE"], methods=["POST"])
    app.view_functions["auth.sign_in"] = throttle(app.view_functions["auth.sign_in"])
