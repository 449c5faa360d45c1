"""Teams, areas and partner agencies: lists, adding, renaming and changing; refusals change
nothing; every change is audited.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.people import Area, PartnerAgency, Team
from cases.records import Case
from tests.admin.conftest import audit_rows, counts, errors_of, ids, page_text, send
from web.extensions import unit

# Teams.

def test_the_teams_list_shows_members_and_leaders(admin):
    page = page_text(admin.get("/admin/teams"))
    assert "3 teams" in page
    assert "North Tara Leader 3" in page  # olivia, oscar and tara
    assert "South Tom Leader 2" in page
    assert "default None 4" in page


def test_an_admin_adds_a_team(api, admin):
    before = counts(api)
    response = send(admin, "/admin/teams/new", {"name": "  East  "})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/teams"
    team_id = ids(api, Team, name="East")
    assert counts(api) == before | {"teams": before["teams"] + 1, "audit": before["audit"] + 1}
    (event,) = audit_rows(api, "team.created")
    assert (event.actor, event.object_type, event.object_id) == ("adam", "team", str(team_id))
    assert event.summary == {"via": "admin", "team": "East"}
    assert "The team East was added" in page_text(admin.get("/admin/teams"))


@pytest.mark.parametrize(("name", "message"), [
    ("", "Enter a team name"),
    ("   ", "Enter a team name"),
    ("x" * 65, "Team name must be 64 characters or fewer"),
    ("north", "A team called &#39;north&#39; already exists"),
    ("Bad\x07bell", "Team name must not contain control characters"),
])
def test_a_bad_new_team_is_reshown_and_nothing_added(api, admin, name, message):
    before = counts(api)
    html = errors_of(send(admin, "/admin/teams/new", {"name": name}))
    assert message in html
    assert counts(api) == before


def test_a_renamed_teams_cases_follow_it_so_its_leader_keeps_access(api, admin, signed_in):
    reference = api.open_case()["reference"]
    north = ids(api, Team, name="North")
    assert signed_in("tara").get(f"/cases/{reference}").status_code == 200
    response = send(admin, f"/admin/teams/{north}", {"name": "North team"})
    assert response.status_code == 302
    with api.app.app_context(), unit() as session:
        assert session.scalar(select(Case.team).where(Case.reference == reference)) == (
            "North team")
        assert session.get(Team, north).name == "North team"
    assert signed_in("tara").get(f"/cases/{reference}").status_code == 200
    (event,) = audit_rows(api, "team.renamed")
    assert event.object_id == str(north)
    assert event.summary == {"via": "admin", "renamed": {"from": "North", "to": "North team"}}


def test_renaming_to_another_teams_name_is_refused(api, admin):
    north = ids(api, Team, name="North")
    page = admin.get(f"/admin/teams/{north}").get_data(as_text=True)
    assert 'value="North"' in page
    before = counts(api)
    html = errors_of(send(admin, f"/admin/teams/{north}", {"name": "SOUTH"}))
    assert "A team called &#39;SOUTH&#39; already exists" in html and 'value="SOUTH"' in html
    assert counts(api) == before
    assert ids(api, Team, name="North") == north


def test_renaming_a_team_to_its_own_name_audits_nothing(api, admin):
    north = ids(api, Team, name="North")
    assert send(admin, f"/admin/teams/{north}", {"name": "North"}).status_code == 302
    assert audit_rows(api, "team.renamed") == []


# Areas.

def test_an_admin_adds_an_area_with_a_code(api, admin):
    assert "St Helen&#39;s" in admin.get("/admin/areas").get_data(as_text=True)
    response = send(admin, "/admin/areas/new", {"name": "Hasland", "code": "E05008999"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/areas"
    area_id = ids(api, Area, name="Hasland")
    (event,) = audit_rows(api, "area.created")
    assert (event.object_type, event.object_id) == ("area", str(area_id))
    assert event.summary == {"via": "admin", "area": "Hasland", "code": "E05008999"}
    page = page_text(admin.get("/admin/areas"))
    assert "Hasland E05008999 0" in page and "St Helen's 1" in page


@pytest.mark.parametrize(("data", "message"), [
    ({"name": ""}, "Enter the area&#39;s name"),
    ({"name": "x" * 129}, "Area name must be 128 characters or fewer"),
    ({"name": "ST HELEN'S"}, "An area called &#39;ST HELEN&#39;S&#39; already exists"),
    ({"name": "St Helen's"}, "An area called &#39;St Helen&#39;s&#39; already exists"),
    ({"name": "Hasland", "code": "has land"}, "An area code must have 1 to 32 letters"),
    ({"name": "Hasland", "code": "x" * 33}, "Code must be 32 characters or fewer"),
])
def test_a_bad_new_area_is_reshown_and_nothing_added(api, admin, data, message):
    before = counts(api)
    html = errors_of(send(admin, "/admin/areas/new", data))
    assert message in html
    assert counts(api) == before


def test_an_area_code_already_in_use_is_refused(api, admin):
    send(admin, "/admin/areas/new", {"name": "Hasland", "code": "E1"})
    before = counts(api)
    html = errors_of(send(admin, "/admin/areas/new", {"name": "Walton", "code": "e1"}))
    assert "An area with the code &#39;e1&#39; already exists" in html
    assert counts(api) == before


# Partner agencies.

def test_an_admin_adds_an_agency_and_changes_its_contact(api, admin):
    response = send(admin, "/admin/agencies/new", {"code": "fire", "name": "Fire and Rescue",
                                                   "email": "asb@fire.example.org"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/agencies"
    fire = ids(api, PartnerAgency, code="fire")
    (created,) = audit_rows(api, "agency.created")
    assert (created.object_type, created.object_id) == ("partner_agency", str(fire))
    assert created.summary == {"via": "admin", "code": "fire", "agency": "Fire and Rescue"}
    assert "Fire and Rescue fire asb@fire.example.org 0" in page_text(admin.get("/admin/agencies"))

    page = admin.get(f"/admin/agencies/{fire}").get_data(as_text=True)
    assert 'value="Fire and Rescue"' in page and 'name="code"' not in page
    response = send(admin, f"/admin/agencies/{fire}", {"name": "Derbyshire Fire & Rescue",
                                                       "email": "referrals@fire.example.org"})
    assert response.status_code == 302
    with api.app.app_context(), unit() as session:
        agency = session.get(PartnerAgency, fire)
        assert (agency.code, agency.name, agency.email) == (
            "fire", "Derbyshire Fire & Rescue", "referrals@fire.example.org")
    (updated,) = audit_rows(api, "agency.updated")
    assert updated.summary == {
        "via": "admin", "code": "fire", "changed": ["email", "name"],
        "agency": {"from": "Fire and Rescue", "to": "Derbyshire Fire & Rescue"}}


def test_an_agency_email_can_be_removed(api, admin):
    police = ids(api, PartnerAgency, code="police")
    send(admin, f"/admin/agencies/{police}", {"name": "Police", "email": "x@police.example.org"})
    send(admin, f"/admin/agencies/{police}", {"name": "Police", "email": ""})
    with api.app.app_context(), unit() as session:
        assert session.get(PartnerAgency, police).email is None


FIRE = {"code": "fire", "name": "Fire and Rescue", "email": "asb@fire.example.org"}


@pytest.mark.parametrize(("changes", "message"), [
    ({"code": ""}, "Enter a code for the agency"),
    ({"code": "fire service"}, "An agency code must have 1 to 32 letters"),
    ({"code": "POLICE"}, "An agency with the code &#39;POLICE&#39; already exists"),
    ({"code": "police"}, "An agency with the code &#39;police&#39; already exists"),
    ({"name": "police"}, "An agency called &#39;police&#39; already exists"),
    ({"name": ""}, "Enter the agency&#39;s name"),
    ({"email": "fire at example"}, "Enter an email address in the correct format"),
])
def test_a_bad_new_agency_is_reshown_and_nothing_added(api, admin, changes, message):
    before = counts(api)
    html = errors_of(send(admin, "/admin/agencies/new", {**FIRE, **changes}))
    assert message in html
    assert counts(api) == before


def test_a_bad_agency_change_is_reshown_and_changes_nothing(api, admin):
    send(admin, "/admin/agencies/new", {"code": "fire", "name": "Fire and Rescue"})
    fire = ids(api, PartnerAgency, code="fire")
    before = counts(api)
    for data, message in (({"name": "POLICE"}, "An agency called &#39;POLICE&#39; already"),
                          ({"name": ""}, "Enter the agency&#39;s name"),
                          ({"name": "Fire", "email": "nope"}, "Enter an email address")):
        html = errors_of(send(admin, f"/admin/agencies/{fire}", data))
        assert message in html
    assert counts(api) == before
    with api.app.app_context(), unit() as session:
        assert session.get(PartnerAgency, fire).name == "Fire and Rescue"
