"""Users: list and filter, add (typed or generated password), edit, disable and enable, reset
passwords; every refusal re-shows what was typed and changes nothing; every change audited.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.people import Area, PartnerAgency, Team, User
from tests.admin.conftest import audit_rows, counts, errors_of, ids, page_text, send, user_row
from tests.web.support import csrf_token
from web.extensions import unit

PASSWORD = "a long enough password"


def new_user(api, **changes):
    data = {"name": "nina.new", "display_name": "Nina Newcomer",
            "email": "nina@council.example.org", "phone": "01246 345345", "role": "officer",
            "team": str(ids(api, Team, name="North")),
            "areas": [str(ids(api, Area, name="St Helen's"))], "password": PASSWORD}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def sign_in(api, name, password=PASSWORD):
    api.app.config["ASB_REQUIRE_TOTP"] = False  # the password step only: see tests/auth/
    client = api.app.test_client()
    response = client.post("/sign-in", data={"user_name": name, "password": password,
                                             "csrf_token": csrf_token(client)})
    return client, response



# The list.

def test_the_list_shows_every_user_with_role_team_areas_status(admin):
    page = page_text(admin.get("/admin/users"))
    assert "9 users" in page
    assert "Olivia Officer" in page and "olivia" in page and "St Helen's" in page
    assert "Partner agency user" in page and "Police" in page
    assert "Can sign in" in page and "Not known" in page


def test_the_list_filters_by_role_and_status(api, admin):
    page = page_text(admin.get("/admin/users?role=team_leader"))
    assert "2 users: team leader" in page and "Tara Leader" in page
    assert "Olivia Officer" not in page
    assert "9 users" in page_text(admin.get("/admin/users?role=nonsense&status=bogus"))
    assert "0 users" in page_text(admin.get("/admin/users?status=disabled"))
    send(admin, f"/admin/users/{ids(api, User, name='oscar')}/disable", {"reason": "Left"})
    page = page_text(admin.get("/admin/users?status=disabled"))
    assert "1 user" in page and "Oscar Officer" in page


def test_the_list_shows_the_last_sign_in_when_known(api, admin):
    send(admin, f"/admin/users/{ids(api, User, name='sam')}/password", {"password": PASSWORD})
    _, response = sign_in(api, "sam")
    assert response.status_code == 302
    page = page_text(admin.get("/admin/users?role=officer"))
    assert "24 December 2026, 10:00" in page  # the test clock: Christmas Eve 10:00 UTC


# Adding a user.

def test_an_admin_adds_a_user_who_can_then_sign_in(api, admin):
    before = counts(api)
    response = send(admin, "/admin/users/new", new_user(api))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    row = user_row(api, "nina.new")
    assert row | {"id": 0, "password_hash": ""} == {
        "id": 0, "display_name": "Nina Newcomer", "email": "nina@council.example.org",
        "phone": "01246 345345", "role": "officer", "team": "North", "agency": None,
        "active": True, "password_hash": "", "areas": ["St Helen's"]}
    assert counts(api) == before | {"users": before["users"] + 1, "audit": before["audit"] + 1}
    (event,) = audit_rows(api, "user.created")
    assert (event.actor, event.object_type, event.object_id) == ("adam", "user", str(row["id"]))
    assert event.summary == {"via": "admin", "user": "nina.new", "role": "officer",
                             "team": "North", "agency": None, "areas": ["St Helen's"],
                             "generated": False}
    assert "Nina Newcomer (nina.new) was added" in page_text(admin.get("/admin/users"))
    _, signed = sign_in(api, "nina.new")
    assert signed.status_code == 302 and signed.headers["Location"] == "/"


def test_a_generated_password_is_shown_once_and_works(api, admin):
    response = send(admin, "/admin/users/new", new_user(api, password=""))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = re.search(r'id="new-password">([^<]+)<', page).group(1)
    assert len(password) == 20 and "shown only once" in page
    assert PASSWORD not in page
    assert audit_rows(api, "user.created")[0].summary["generated"] is True
    assert password not in str(audit_rows(api, "user.created")[0].summary)
    _, signed = sign_in(api, "nina.new", password)
    assert signed.status_code == 302
    assert password not in admin.get(f"/admin/users/{user_row(api, 'nina.new')['id']}").get_data(
        as_text=True)


def test_a_partner_user_needs_and_gets_an_agency(api, admin):
    police = str(ids(api, PartnerAgency, code="police"))
    html = errors_of(send(admin, "/admin/users/new", new_user(api, role="partner")))
    assert "Select the partner agency the user works for" in html
    response = send(admin, "/admin/users/new", new_user(api, role="partner", agency=police))
    assert response.status_code == 302
    assert user_row(api, "nina.new")["agency"] == "police"


def test_an_agency_is_ignored_for_a_council_role(api, admin):
    police = str(ids(api, PartnerAgency, code="police"))
    assert send(admin, "/admin/users/new", new_user(api, agency=police)).status_code == 302
    assert user_row(api, "nina.new")["agency"] is None


BAD_NEW_USER = [
    ({"name": ""}, "Enter a user name"),
    ({"name": "a"}, "User name must be 2 to 64 letters"),
    ({"name": "nina new"}, "User name must be 2 to 64 letters"),
    ({"name": "x" * 65}, "User name must be 64 characters or fewer"),
    ({"name": "OLIVIA"}, "A user named &#39;OLIVIA&#39; already exists"),
    ({"display_name": "  "}, "Enter the person&#39;s full name"),
    ({"display_name": "N" * 129}, "Full name must be 128 characters or fewer"),
    ({"display_name": "Nina\x00"}, "Full name must not contain control characters"),
    ({"email": "nina.example.org"}, "Enter an email address in the correct format"),
    ({"phone": "call me"}, "Enter a phone number using digits"),
    ({"role": None}, "Select the user&#39;s role"),
    ({"role": "superuser"}, "Select the user&#39;s role"),
    ({"team": None}, "Select a team"),
    ({"team": "999999"}, "Select a team"),
    ({"team": "North"}, "Select a team"),
    ({"areas": ["999999"]}, "Select areas from the list"),
    ({"areas": ["x' OR 1=1"]}, "Select areas from the list"),
    ({"password": "too short"}, "Password must be 12 characters or more"),
    ({"password": "x" * 1025}, "Password must be 1024 characters or fewer"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_NEW_USER)
def test_a_bad_new_user_is_reshown_with_the_message_and_nothing_added(api, admin, changes,
                                                                       message):
    before = counts(api)
    html = errors_of(send(admin, "/admin/users/new", new_user(api, **changes)))
    assert message in html
    assert counts(api) == before
    if "display_name" not in changes:
        assert 'value="Nina Newcomer"' in html  # what was typed is shown again
    assert PASSWORD not in html  # never a password


def test_an_empty_new_user_form_lists_every_missing_field_in_page_order(api, admin):
    html = errors_of(send(admin, "/admin/users/new", {}))
    start = html.index("govuk-error-summary")
    summary = html[start:html.index("</ul>", start)]
    found = re.findall(r'href="#(\w+)"', summary)
    assert found == ["name", "display_name", "role", "team"]


# Editing a user.

def edit(api, name, **changes):
    row = user_row(api, name)
    with api.app.app_context(), unit() as session:
        teams = {t.name: str(t.id) for t in session.scalars(select(Team))}
        areas = {a.name: str(a.id) for a in session.scalars(select(Area))}
    data = {"display_name": row["display_name"], "email": row["email"] or "",
            "phone": row["phone"] or "", "role": row["role"], "team": teams[row["team"]],
            "areas": [areas[a] for a in row["areas"]]}
    data.update(changes)
    return f"/admin/users/{row['id']}", {k: v for k, v in data.items() if v is not None}


def test_the_edit_page_shows_the_users_details(api, admin):
    path, _ = edit(api, "olivia")
    html = admin.get(path).get_data(as_text=True)
    assert 'value="Olivia Officer"' in html and 'value="olivia@council.example.org"' in html
    assert re.search(r'value="officer"\s+checked', html)
    assert "Disable user" in html and "Reset password" in html
    assert "API tokens in use" in html


def test_an_admin_changes_role_team_areas_and_contact_details(api, admin):
    south = str(ids(api, Team, name="South"))
    brimington = str(ids(api, Area, name="Brimington"))
    path, data = edit(api, "olivia", role="team_leader", team=south, areas=[brimington],
                      phone="07700 900111", display_name="Olivia Leader")
    before = counts(api)
    response = send(admin, path, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    row = user_row(api, "olivia")
    assert (row["role"], row["team"], row["areas"], row["phone"], row["display_name"]) == (
        "team_leader", "South", ["Brimington"], "07700 900111", "Olivia Leader")
    assert counts(api) == before | {"audit": before["audit"] + 1}
    (event,) = audit_rows(api, "user.updated")
    assert event.object_id == str(row["id"]) and event.actor == "adam"
    assert event.summary == {
        "via": "admin", "user": "olivia",
        "changed": ["areas", "display_name", "phone", "role", "team"],
        "role": {"from": "officer", "to": "team_leader"}, "team": {"from": "North", "to": "South"},
        "areas": {"from": ["St Helen's"], "to": ["Brimington"]}}
    assert "07700" not in str(event.summary)  # personal details: only that they changed


def test_saving_unchanged_details_audits_nothing(api, admin):
    path, data = edit(api, "olivia")
    assert send(admin, path, data).status_code == 302
    assert audit_rows(api, "user.updated") == []


def test_a_partner_becoming_an_officer_leaves_the_agency(api, admin):
    path, data = edit(api, "paul", role="officer")
    assert send(admin, path, data).status_code == 302
    assert user_row(api, "paul")["agency"] is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"display_name": ""}, "Enter the person&#39;s full name"),
    ({"email": "not an email"}, "Enter an email address in the correct format"),
    ({"phone": "x" * 33}, "Phone number must be 32 characters or fewer"),
    ({"role": "partner"}, "Select the partner agency the user works for"),
    ({"role": "root"}, "Select the user&#39;s role"),
    ({"team": "0"}, "Select a team"),
    ({"areas": ["1", "nope"]}, "Select areas from the list"),
])
def test_a_bad_edit_is_reshown_and_changes_nothing(api, admin, changes, message):
    path, data = edit(api, "olivia", **changes)
    before, row = counts(api), user_row(api, "olivia")
    html = errors_of(send(admin, path, data))
    assert message in html
    assert counts(api) == before and user_row(api, "olivia") == row


def test_an_admin_cannot_change_their_own_role(api, admin):
    path, data = edit(api, "adam", role="officer")
    html = errors_of(send(admin, path, data))
    assert "You cannot change your own role" in html
    assert user_row(api, "adam")["role"] == "admin"


# Disabling and enabling.

def test_disabling_ends_sign_in_sessions_and_tokens(api, admin, signed_in):
    send(admin, f"/admin/users/{ids(api, User, name='olivia')}/password",
         {"password": PASSWORD})
    browser, response = sign_in(api, "olivia")
    assert response.status_code == 302
    assert browser.get("/inbox").status_code == 200
    other = signed_in("olivia")
    assert other.get("/inbox").status_code == 200
    assert api.get("/api/v1/tasks?assignee=me", "olivia").status_code == 200

    olivia = ids(api, User, name="olivia")
    response = send(admin, f"/admin/users/{olivia}/disable", {"reason": "Left the council"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"

    for client in (browser, other):  # every open session ends at its next request
        gone = client.get("/inbox")
        assert gone.status_code == 302 and gone.headers["Location"].startswith("/sign-in")
        assert client.get("/inbox").status_code == 302  # and stays ended
    assert api.get("/api/v1/tasks?assignee=me", "olivia").status_code == 401
    _, again = sign_in(api, "olivia")
    assert again.status_code == 200 and "Enter a correct user name and password" in (
        again.get_data(as_text=True))
    assert user_row(api, "olivia")["active"] is False
    (event,) = audit_rows(api, "user.disabled")
    assert (event.actor, event.object_type, event.object_id) == ("adam", "user", str(olivia))
    assert event.summary == {"via": "admin", "user": "olivia", "reason": "Left the council",
                             "revoked_api_access": 1}
    assert "1 API token stopped working" in page_text(admin.get("/admin/users"))


def test_enabling_lets_the_user_sign_in_but_old_tokens_stay_revoked(api, admin):
    olivia = ids(api, User, name="olivia")
    send(admin, f"/admin/users/{olivia}/password", {"password": PASSWORD})
    send(admin, f"/admin/users/{olivia}/disable", {"reason": "On long leave"})
    html = admin.get(f"/admin/users/{olivia}").get_data(as_text=True)
    assert "Let Olivia Officer sign in again" in html and "Disable user" not in html
    response = send(admin, f"/admin/users/{olivia}/enable")
    assert response.status_code == 302
    assert user_row(api, "olivia")["active"] is True
    assert [e.summary["user"] for e in audit_rows(api, "user.enabled")] == ["olivia"]
    _, signed = sign_in(api, "olivia")
    assert signed.status_code == 302
    assert api.get("/api/v1/tasks?assignee=me", "olivia").status_code == 401
    send(admin, f"/admin/users/{olivia}/enable")  # already enabled: nothing more audited
    assert len(audit_rows(api, "user.enabled")) == 1


def test_disabling_needs_a_reason(api, admin):
    olivia = ids(api, User, name="olivia")
    before = counts(api)
    for reason in ("", "   ", "x" * 501, "bad\x00byte"):
        html = errors_of(send(admin, f"/admin/users/{olivia}/disable", {"reason": reason}))
        assert "reason" in html.lower()
    assert counts(api) == before and user_row(api, "olivia")["active"] is True


def test_an_admin_cannot_disable_themselves(api, admin):
    adam = ids(api, User, name="adam")
    page = admin.get(f"/admin/users/{adam}/disable").get_data(as_text=True)
    assert "You cannot disable your own account" in page and "Disable user</button>" not in page
    assert "Disable user" not in admin.get(f"/admin/users/{adam}").get_data(as_text=True)
    before = counts(api)
    html = errors_of(send(admin, f"/admin/users/{adam}/disable", {"reason": "Testing"}))
    assert "You cannot disable your own account" in html
    assert counts(api) == before and user_row(api, "adam")["active"] is True
    assert admin.get("/admin").status_code == 200


def test_disabling_a_disabled_user_is_refused(api, admin):
    oscar = ids(api, User, name="oscar")
    send(admin, f"/admin/users/{oscar}/disable", {"reason": "Left"})
    html = errors_of(send(admin, f"/admin/users/{oscar}/disable", {"reason": "Left again"}))
    assert "is already disabled" in html
    assert len(audit_rows(api, "user.disabled")) == 1


# Password resets.

def test_a_typed_password_reset_works_and_is_audited(api, admin):
    sam = ids(api, User, name="sam")
    response = send(admin, f"/admin/users/{sam}/password", {"password": PASSWORD})
    assert response.status_code == 302
    _, signed = sign_in(api, "sam")
    assert signed.status_code == 302
    (event,) = audit_rows(api, "user.password_reset")
    assert event.summary == {"via": "admin", "user": "sam", "generated": False}
    assert PASSWORD not in str(event.summary)


def test_a_generated_password_reset_is_shown_once(api, admin):
    sam = ids(api, User, name="sam")
    page = send(admin, f"/admin/users/{sam}/password", {"password": ""}).get_data(as_text=True)
    password = re.search(r'id="new-password">([^<]+)<', page).group(1)
    _, signed = sign_in(api, "sam", password)
    assert signed.status_code == 302
    assert audit_rows(api, "user.password_reset")[0].summary["generated"] is True


def test_a_short_password_is_refused(api, admin):
    sam = ids(api, User, name="sam")
    before = user_row(api, "sam")
    html = errors_of(send(admin, f"/admin/users/{sam}/password", {"password": "short"}))
    assert "Password must be 12 characters or more" in html and 'value="short"' not in html
    assert user_row(api, "sam") == before
