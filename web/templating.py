"""Jinja wiring: our templates plus the GOV.UK Frontend macros, and the layout's globals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from cases.config import get_setting
from cases.people import Role

from .extensions import db

TEMPLATES = Path(__file__).resolve().parent / "templates"
SERVICE_NAME = "Anti-social behaviour casework"
FALLBACK_COUNCIL_NAME = "Council"

# Header navigation: (label, path, roles that see it). A link shows once its page exists.
NAVIGATION: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("Inbox", "/inbox", frozenset({Role.OFFICER, Role.TEAM_LEADER, Role.MANAGER})),
    ("Cases", "/cases", frozenset({Role.OFFICER, Role.TEAM_LEADER})),
    ("New report", "/reports/new", frozenset({Role.OFFICER, Role.TEAM_LEADER})),
    ("Case Reviews", "/case-reviews", frozenset({Role.TEAM_LEADER, Role.MANAGER})),
    ("Complaints", "/complaints", frozenset({Role.TEAM_LEADER, Role.MANAGER})),
    ("Diagrams", "/diagrams", frozenset({Role.PROCESS_OWNER, Role.MANAGER, Role.ADMIN})),
    ("Dashboard", "/dashboard", frozenset({Role.MANAGER})),
    ("Instances", "/instances", frozenset({Role.MANAGER})),
    ("Audit", "/audit", frozenset({Role.MANAGER, Role.ADMIN})),
    ("Admin", "/admin", frozenset({Role.ADMIN})),
    ("Referrals", "/partner", frozenset({Role.PARTNER})),
)


def init_app(app: Flask) -> None:
    """Load ours first, then ``govuk_frontend_jinja/`` and ``govuk_frontend_wtf/`` templates."""
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(TEMPLATES),
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    WTFormsHelpers(app)
    app.context_processor(_layout_context)


def council_name() -> str:
    """The council's name from its settings (a plain fallback if the database fails)."""
    if "council_name" not in g:
        try:
            g.council_name = str(get_setting(db(), "council_details")["name"])
        except SQLAlchemyError as exc:
            if isinstance(exc, OperationalError) and not g.get("database_lost"):
                raise  # the database went away mid-request: a 503, never a page over lost work
            current_app.logger.warning("council name unavailable", exc_info=True)
            g.council_name = FALLBACK_COUNCIL_NAME
    name: str = g.council_name
    return name


def _page_exists(path: str) -> bool:
    adapter = current_app.url_map.bind("localhost")
    return bool(adapter.test(path, method="GET"))


def navigation() -> list[dict[str, Any]]:
    """The signed-in user's header links, the current one marked."""
    user = g.get("user")
    if user is None:
        return []
    items = []
    for label, path, roles in NAVIGATION:
        if user.role in roles and _page_exists(path):
            current = request.path == path or request.path.startswith(path + "/")
            items.append({"text": label, "href": path, "active": current})
    return items


def _layout_context() -> dict[str, Any]:
    return {
        "council_name": council_name,
        "service_name": SERVICE_NAME,
        "navigation": navigation,
        "current_user": g.get("user") if g.get("auth") == "session" else None,
    }
