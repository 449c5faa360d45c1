"""The admin workspace's URL map; every page is for the ``admin`` role only.

URL map (blueprint ``admin``):
    GET       /admin                                           index()
    GET       /admin/users                                     users.users()
    GET, POST /admin/users/new                                 users.new_user()
    GET, POST /admin/users/<user_id>                           users.edit_user()
    GET, POST /admin/users/<user_id>/disable                   users.disable_user()
    POST      /admin/users/<user_id>/enable                    users.enable_user()
    GET, POST /admin/users/<user_id>/password                  users.reset_password()
    GET       /admin/teams                                     organisation.teams()
    GET, POST /admin/teams/new                                 organisation.new_team()
    GET, POST /admin/teams/<team_id>                           organisation.edit_team()
    GET       /admin/areas                                     organisation.areas()
    GET, POST /admin/areas/new                                 organisation.new_area()
    GET       /admin/agencies                                  organisation.agencies()
    GET, POST /admin/agencies/new                              organisation.new_agency()
    GET, POST /admin/agencies/<agency_id>                      organisation.edit_agency()
    GET       /admin/configuration                             settings.configuration()
    GET, POST /admin/configuration/<key>                       settings.setting()
    POST      /admin/configuration/<key>/<setting_id>/cancel   settings.cancel_setting()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint
from sqlalchemy import func, select

from cases.config import DEFAULTS, CouncilSetting
from cases.people import Area, PartnerAgency, Role, Team, User
from engine import clock
from web.auth.guards import roles_required
from web.extensions import db

from . import organisation, settings, users
from .common import page, uk_time

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_app_template_filter(uk_time, "uk_time")


@bp.before_request
@roles_required(Role.ADMIN)
def _admins_only() -> None:
    """Every admin page: strangers sign in first, other roles get 403 (before any work)."""
    return None


def _count(model: Any, *where: Any) -> int:
    return int(db().scalar(select(func.count()).select_from(model).where(*where)) or 0)


def index() -> str:
    """The admin landing page: each section with its counts."""
    counts = {
        "active": _count(User, User.active.is_(True)),
        "disabled": _count(User, User.active.is_(False)),
        "teams": _count(Team), "areas": _count(Area), "agencies": _count(PartnerAgency),
        "settings": len(DEFAULTS),
        "scheduled": _count(CouncilSetting, CouncilSetting.effective_from > clock.now()),
    }
    return page("admin/index.html", counts=counts)


def _route(rule: str, view: Callable[..., Any], methods: tuple[str, ...] = ("GET",)) -> None:
    bp.add_url_rule(rule, view.__name__, view, methods=list(methods))


BOTH = ("GET", "POST")
_route("", index)
_route("/users", users.users)
_route("/users/new", users.new_user, BOTH)
_route("/users/<int:user_id>", users.edit_user, BOTH)
_route("/users/<int:user_id>/disable", users.disable_user, BOTH)
_route("/users/<int:user_id>/enable", users.enable_user, ("POST",))
_route("/users/<int:user_id>/password", users.reset_password, BOTH)
_route("/teams", organisation.teams)
_route("/teams/new", organisation.new_team, BOTH)
_route("/teams/<int:team_id>", organisation.edit_team, BOTH)
_route("/areas", organisation.areas)
_route("/areas/new", organisation.new_area, BOTH)
_route("/agencies", organisation.agencies)
_route("/agencies/new", organisation.new_agency, BOTH)
_route("/agencies/<int:agency_id>", organisation.edit_agency, BOTH)
_route("/configuration", settings.configuration)
_route("/configuration/<key>", settings.setting, BOTH)
_route("/configuration/<key>/<int:setting_id>/cancel", settings.cancel_setting, ("POST",))
