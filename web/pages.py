"""Public pages every service needs: accessibility statement, privacy notice, cookies."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from cases.config import get_setting

from .extensions import db

bp = Blueprint("pages", __name__)


def _council() -> dict[str, object]:
    details: dict[str, object] = get_setting(db(), "council_details")
    return details


@bp.get("/accessibility")
def accessibility() -> str:
    """The accessibility statement."""
    return render_template("pages/accessibility.html", council=_council())


@bp.get("/privacy")
def privacy() -> str:
    """The privacy notice: what the council holds about reporters and why."""
    return render_template("pages/privacy.html", council=_council())


@bp.get("/cookies")
def cookies() -> str:
    """The cookies page: one essential session cookie."""
    return render_template("pages/cookies.html", council=_council(),
                           cookie_name=current_app.config["SESSION_COOKIE_NAME"])
