"""The home page, sending each role to its workspace, and placeholder workspace landing pages.

A placeholder is added only where no other module has registered a page at that path, so
the real workspaces replace them simply by being registered first.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, g, redirect, render_template
from werkzeug.wrappers import Response

from cases.people import Role

from .guards import login_required, roles_required

bp = Blueprint("home", __name__)

WORKSPACE_OF_ROLE: dict[Role, str] = {
    Role.OFFICER: "/inbox",
    Role.TEAM_LEADER: "/inbox",
    Role.PARTNER: "/partner",
    Role.PROCESS_OWNER: "/diagrams",
    Role.MANAGER: "/dashboard",
    Role.ADMIN: "/admin",
}

# path: (heading, roles allowed)
WORKSPACE_LANDING_PAGES: dict[str, tuple[str, tuple[Role, ...]]] = {
    "/inbox": ("Inbox", (Role.OFFICER, Role.TEAM_LEADER)),
    "/dashboard": ("Dashboard", (Role.MANAGER,)),
    "/admin": ("Administration", (Role.ADMIN,)),
}


@bp.get("/")
@login_required
def index() -> Response:
    """Send the signed-in user to their role's workspace."""
    return redirect(WORKSPACE_OF_ROLE[g.user.role])


def _landing_page(heading: str, roles: tuple[Role, ...]) -> Callable[[], str | Response]:
    @roles_required(*roles)
    def workspace_landing_page() -> str:
        return render_template("auth/workspace.html", heading=heading)

    return workspace_landing_page


def add_workspace_landing_pages(app: Flask) -> None:
    """Add a placeholder page at each workspace path no other module has registered yet."""
    taken = {rule.rule for rule in app.url_map.iter_rules()}
    for path, (heading, roles) in WORKSPACE_LANDING_PAGES.items():
        if path not in taken:
            endpoint = f"workspace_landing_page_{path.strip('/')}"
            app.add_url_rule(path, endpoint=endpoint, view_func=_landing_page(heading, roles))
