"""Who may use the admin pages: the admin role only; strangers are sent to sign in; every form
needs its CSRF token.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.config import DEFAULTS
from cases.people import Team, User
from tests.admin.conftest import counts, ids, send
from tests.web.support import csrf_token
from web.extensions import unit

NOT_ADMINS = ("olivia", "tara", "maria", "petra", "paul")


def admin_routes(api) -> list[tuple[str, str]]:
    """Every (method, path) of the admin blueprint, with real ids filled in."""
    values = {"user_id": str(ids(api, User, name="olivia")),
              "team_id": str(ids(api, Team, name="North")), "agency_id": "1",
              "key": "homes_count", "setting_id": "1"}
    found = []
    for rule in api.app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule.rule)
            found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_the_blueprint_serves_every_page_the_brief_names(api):
    paths = {path for _, path in admin_routes(api)}
    assert {"/admin", "/admin/users", "/admin/users/new", "/admin/teams", "/admin/teams/new",
            "/admin/areas", "/admin/areas/new", "/admin/agencies", "/admin/agencies/new",
            "/admin/configuration", "/admin/configuration/homes_count"} <= paths
    assert len(admin_routes(api)) == 28


def test_the_admin_page_replaces_the_placeholder(api, admin):
    html = admin.get("/admin").get_data(as_text=True)
    assert "This workspace is being built" not in html
    assert ">Administration</h1>" in html
    assert "workspace_landing_page_admin" not in api.app.view_functions


@pytest.mark.parametrize("who", NOT_ADMINS)
def test_every_admin_route_is_forbidden_to_other_roles(api, signed_in, who):
    client = signed_in(who)
    csrf = csrf_token(client, "/admin")  # the 403 page carries the sign-out form
    before = counts(api)
    for method, path in admin_routes(api):
        data = {"csrf_token": csrf, "name": "x", "reason": "because I can", "value": "5",
                "day": "1", "month": "1", "year": "2030"} if method == "POST" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (who, method, path)
        assert "You do not have permission" in response.get_data(as_text=True)
    after = counts(api)
    if who == "paul":  # a partner's every refused attempt is audited (docs/partner.md)
        with api.app.app_context(), unit() as session:
            refused = session.scalars(select(AuditEvent.object_id).where(
                AuditEvent.action == "partner.refused")).all()
        assert len(refused) == len(admin_routes(api)) + 1   # and the page the token came from
        after["audit"] -= len(refused) - 1
    assert after == before


def test_strangers_are_sent_to_sign_in_and_come_back(api):
    client = api.app.test_client()
    for method, path in admin_routes(api):
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/sign-in?next=/admin"), path


def test_a_strangers_post_is_refused_and_changes_nothing(api):
    client = api.app.test_client()
    csrf = csrf_token(client, "/sign-in")
    before = counts(api)
    for method, path in admin_routes(api):
        if method == "POST":
            assert client.post(path).status_code == 400, path  # no token at all
            response = client.post(path, data={"csrf_token": csrf, "name": "x"})
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/sign-in"), path
    assert counts(api) == before


def test_every_admin_form_needs_its_csrf_token(api, admin):
    before = counts(api)
    for method, path in admin_routes(api):
        if method == "POST":
            response = admin.post(path, data={"name": "New team", "reason": "left the council",
                                              "value": "5", "day": "1", "month": "1",
                                              "year": "2030"})
            assert response.status_code == 400, path
            assert "Your form could not be checked" in response.get_data(as_text=True)
            forged = admin.post(path, data={"csrf_token": "forged", "name": "New team"})
            assert forged.status_code == 400, path
    assert counts(api) == before


def test_the_admin_sees_the_admin_link_and_every_section(admin):
    html = admin.get("/admin").get_data(as_text=True)
    assert 'href="/admin"' in html
    for section in ("/admin/users", "/admin/teams", "/admin/areas", "/admin/agencies",
                    "/admin/configuration"):
        assert f'href="{section}"' in html


def test_the_landing_page_counts_each_section(api, admin):
    html = " ".join(admin.get("/admin").get_data(as_text=True).split())
    assert "9 can sign in." in html  # the nine demo people
    assert "3 teams." in html  # North, South, default
    assert "2 areas." in html and "1 agency." in html
    assert f"{len(DEFAULTS)} settings." in html and len(DEFAULTS) == 29
    send(admin, f"/admin/users/{ids(api, User, name='oscar')}/disable",
         {"reason": "Left the council"})
    html = " ".join(admin.get("/admin").get_data(as_text=True).split())
    assert "8 can sign in, 1 disabled." in html


def test_unknown_objects_are_404_pages(admin):
    for path in ("/admin/users/999999", "/admin/teams/999999", "/admin/agencies/999999",
                 "/admin/configuration/no_such_setting", "/admin/users/999999/disable",
                 "/admin/users/999999/password", "/admin/no-such-page"):
        assert admin.get(path).status_code == 404, path
    assert send(admin, "/admin/users/999999/enable").status_code == 404
    assert send(admin, "/admin/configuration/homes_count/999999/cancel").status_code == 404


def test_a_personal_api_token_reaches_admin_pages_only_for_an_admin(api):
    # A token call carries its own credential (no cookie, so no CSRF to check): the role rules.
    assert api.get("/admin/users", "adam").status_code == 200
    assert api.get("/admin/configuration", "adam").status_code == 200
    assert api.get("/admin/users", "olivia").status_code == 403
    assert api.get("/admin/users", None).status_code == 302
