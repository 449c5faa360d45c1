"""Teams, areas (wards) and partner agencies: lists, adding, renaming and changing."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from sqlalchemy import and_, func, select
from werkzeug.wrappers import Response

from cases import staff
from cases.people import Area, PartnerAgency, PeopleError, Role, Team, User, user_areas
from web.extensions import db

from .common import Errors, audit, checked, email, get_or_404, page, people_error, refuse, text
from .forms import AgencyForm, AreaForm, TeamForm

FORM = "admin/record_form.html"


def teams() -> str:
    """Every team with its active members and who leads it."""
    session = db()
    rows = session.execute(
        select(Team, func.count(User.id))
        .outerjoin(User, and_(User.team_id == Team.id, User.active.is_(True)))
        .group_by(Team.id).order_by(Team.name)).all()
    leaders: dict[int, list[User]] = {}
    for leader in session.scalars(select(User).where(
            User.role == Role.TEAM_LEADER, User.active.is_(True)).order_by(User.name)):
        leaders.setdefault(leader.team_id, []).append(leader)
    return page("admin/teams.html", rows=rows, leaders=leaders)


def _team_form(form: TeamForm, team: Team | None) -> dict[str, Any]:
    if team is None:
        return {"form": form, "heading": "Add a team", "button": "Add team",
                "action": url_for("admin.new_team"), "back": url_for("admin.teams"),
                "fields": [("name", {"classes": "govuk-!-width-two-thirds"})]}
    return {"form": form, "heading": f"Rename the team {team.name}", "button": "Save name",
            "action": url_for("admin.edit_team", team_id=team.id),
            "back": url_for("admin.teams"),
            "intro": "Cases of this team keep their team under its new name, so the team "
                     "leader still sees them. A team's leader is its active team leader "
                     "(by user name, the first one): change a user's role or team to choose it.",
            "fields": [("name", {"classes": "govuk-!-width-two-thirds"})]}


def _team_name(form: TeamForm, errors: Errors) -> str:
    return text(form, "name", errors, "Team name", longest=64, required="Enter a team name")


def new_team() -> str | Response | tuple[str, int]:
    """Add a team."""
    form = TeamForm()
    context = _team_form(form, None)
    if request.method == "GET":
        return page(FORM, **context)
    checked(form)
    errors: Errors = {}
    name = _team_name(form, errors)
    if not errors:
        try:
            team = staff.add_team(db(), name)
        except PeopleError as exc:
            people_error(exc, errors)
    if errors:
        return refuse(FORM, errors, **context)
    audit("team.created", "team", team.id, team=team.name)
    flash(f"The team {team.name} was added.", "success")
    return redirect(url_for("admin.teams"))


def edit_team(team_id: int) -> str | Response | tuple[str, int]:
    """Rename a team (its cases follow)."""
    session = db()
    team: Team = get_or_404(session, Team, team_id)
    form = TeamForm()
    context = _team_form(form, team)
    if request.method == "GET":
        form.name.data = team.name
        return page(FORM, **context)
    checked(form)
    errors: Errors = {}
    name = _team_name(form, errors)
    if not errors:
        try:
            old = staff.rename_team(session, team, name)
        except PeopleError as exc:
            people_error(exc, errors)
    if errors:
        return refuse(FORM, errors, **context)
    if old != team.name:
        audit("team.renamed", "team", team.id, renamed={"from": old, "to": team.name})
        flash(f"The team {old} is now called {team.name}.", "success")
    return redirect(url_for("admin.teams"))


def areas() -> str:
    """Every ward or area, with how many users cover it."""
    rows = db().execute(
        select(Area, func.count(user_areas.c.user_id))
        .outerjoin(user_areas, user_areas.c.area_id == Area.id)
        .group_by(Area.id).order_by(Area.name)).all()
    return page("admin/areas.html", rows=rows)


def new_area() -> str | Response | tuple[str, int]:
    """Add a ward or other area."""
    form = AreaForm()
    context = {"form": form, "heading": "Add an area", "button": "Add area",
               "action": url_for("admin.new_area"), "back": url_for("admin.areas"),
               "intro": "A ward (or other area) that officers cover. Reports are matched to "
                        "wards by the postcode table in the configuration.",
               "fields": [("name", {"classes": "govuk-!-width-two-thirds"}),
                          ("code", {"classes": "govuk-input--width-10",
                                    "hint": "For example the ONS ward code, E05008998"})]}
    if request.method == "GET":
        return page(FORM, **context)
    checked(form)
    errors: Errors = {}
    name = text(form, "name", errors, "Area name", longest=128, required="Enter the area's name")
    code = text(form, "code", errors, "Code", longest=32)
    if not errors:
        try:
            area = staff.add_area(db(), name, code or None)
        except PeopleError as exc:
            people_error(exc, errors)
    if errors:
        return refuse(FORM, errors, **context)
    audit("area.created", "area", area.id, area=area.name, code=area.code)
    flash(f"The area {area.name} was added.", "success")
    return redirect(url_for("admin.areas"))


def agencies() -> str:
    """Every partner agency with its contact e-mail and how many users it has."""
    rows = db().execute(
        select(PartnerAgency, func.count(User.id))
        .outerjoin(User, User.agency_id == PartnerAgency.id)
        .group_by(PartnerAgency.id).order_by(PartnerAgency.name)).all()
    return page("admin/agencies.html", rows=rows)


def _agency_form(form: AgencyForm, agency: PartnerAgency | None) -> dict[str, Any]:
    fields: list[tuple[str, dict[str, Any]]] = [
        ("name", {"classes": "govuk-!-width-two-thirds"}),
        ("email", {"classes": "govuk-!-width-two-thirds", "type": "email",
                   "hint": "Where referrals and information requests go"}),
    ]
    if agency is None:
        fields.insert(0, ("code", {"classes": "govuk-input--width-20",
                                   "hint": "A short name that never changes, for example "
                                           "police. Letters, digits, '.', '_' or '-'."}))
        return {"form": form, "heading": "Add a partner agency", "button": "Add agency",
                "action": url_for("admin.new_agency"), "back": url_for("admin.agencies"),
                "fields": fields}
    return {"form": form, "heading": f"Change {agency.name}", "button": "Save changes",
            "caption": f"Partner agency {agency.code}",
            "action": url_for("admin.edit_agency", agency_id=agency.id),
            "back": url_for("admin.agencies"), "fields": fields}


def _agency_details(form: AgencyForm, errors: Errors) -> tuple[str, str | None]:
    name = text(form, "name", errors, "Name", longest=128, required="Enter the agency's name")
    return name, email(form, "email", errors, "Contact email address")


def new_agency() -> str | Response | tuple[str, int]:
    """Add a partner agency."""
    form = AgencyForm()
    context = _agency_form(form, None)
    if request.method == "GET":
        return page(FORM, **context)
    checked(form)
    errors: Errors = {}
    code = text(form, "code", errors, "Code", longest=32, required="Enter a code for the agency")
    name, address = _agency_details(form, errors)
    if not errors:
        try:
            agency = staff.add_agency(db(), code, name, address)
        except PeopleError as exc:
            people_error(exc, errors)
    if errors:
        return refuse(FORM, errors, **context)
    audit("agency.created", "partner_agency", agency.id, code=agency.code, agency=agency.name)
    flash(f"The partner agency {agency.name} was added.", "success")
    return redirect(url_for("admin.agencies"))


def edit_agency(agency_id: int) -> str | Response | tuple[str, int]:
    """Change a partner agency's name and contact e-mail (its code is fixed)."""
    session = db()
    agency: PartnerAgency = get_or_404(session, PartnerAgency, agency_id)
    form = AgencyForm()
    context = _agency_form(form, agency)
    if request.method == "GET":
        form.name.data, form.email.data = agency.name, agency.email or ""
        return page(FORM, **context)
    checked(form)
    errors: Errors = {}
    name, address = _agency_details(form, errors)
    if not errors:
        try:
            changes = staff.update_agency(session, agency, name, address)
        except PeopleError as exc:
            people_error(exc, errors)
    if errors:
        return refuse(FORM, errors, **context)
    if changes:
        audit("agency.updated", "partner_agency", agency.id, code=agency.code,
              changed=sorted(changes),
              **({"agency": {"from": changes["name"][0], "to": changes["name"][1]}}
                 if "name" in changes else {}))
    flash(f"The partner agency {agency.name} was saved.", "success")
    return redirect(url_for("admin.agencies"))
