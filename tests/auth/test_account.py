"""Changing one's own password; sessions ending when the password changes or the account is
disabled; an administrator resetting two-factor sign-in; the optional breached-password check.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cases.people import User
from engine import clock
from tests.auth.support import START, audit, enrol, later, signed_in, two_factor_app, user_row
from tests.auth.test_passwords import range_answer, sha1
from tests.web.support import PASSWORD, csrf_token, make_app, sign_in
from web.extensions import unit

NEW = "tulips in the rain at dawn"


@pytest.fixture
def app(tmp_path):
    clock.set_now(START)
    return make_app(tmp_path, ASB_SIGN_IN_RATE="100 per minute")


def change(client, current=PASSWORD, new=NEW, confirm=None):
    token = csrf_token(client, "/account/password")
    return client.post("/account/password", data={
        "current": current, "new": new, "confirm": new if confirm is None else confirm,
        "csrf_token": token})


def client_signed_in(app, name="olivia.officer"):
    client = app.test_client()
    assert sign_in(client, name).status_code == 302
    return client


def test_the_page_needs_sign_in(app):
    response = app.test_client().get("/account/password")
    assert response.headers["Location"] == "/sign-in?next=/account/password"


def test_changing_the_password_ends_every_other_session_at_once(app):
    laptop = client_signed_in(app)
    later(60)
    phone = client_signed_in(app)
    later(60)
    response = change(phone)
    assert response.status_code == 302
    assert "Your password has been changed" in phone.get("/inbox").get_data(as_text=True)
    assert signed_in(phone)  # the session that changed it goes on
    gone = laptop.get("/inbox")
    assert gone.headers["Location"].startswith("/sign-in")
    assert "You have been signed out" in laptop.get(gone.headers["Location"]).get_data(
        as_text=True)
    assert "Enter a correct user name" in sign_in(laptop, "olivia.officer").get_data(
        as_text=True)
    assert sign_in(laptop, "olivia.officer", NEW).status_code == 302
    (event,) = [e for e in audit(app) if e.action == "auth.password_changed"]
    assert event.actor == "olivia.officer" and event.summary["via"] == "account"
    assert NEW not in str(event.summary) and PASSWORD not in str(event.summary)


@pytest.mark.parametrize(("current", "new", "confirm", "message"), [
    ("wrong password here", NEW, None, "Enter your current password correctly"),
    (PASSWORD, NEW, "tulips in the rain at dusk", "Type the same new password twice"),
    (PASSWORD, "password12345", None, "This password is too common"),
    (PASSWORD, "short one", None, "A password needs at least 12 characters"),
    (PASSWORD, "olivia.officer.2027", None, "must not be based on your name"),
    (PASSWORD, PASSWORD, None, "Choose a password different from your current one"),
])
def test_a_refused_change_changes_nothing_and_shows_no_password(
        app, current, new, confirm, message):
    client = client_signed_in(app)
    before = user_row(app, "olivia.officer").password_hash
    response = change(client, current, new, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400)
    assert "There is a problem" in html and message in html
    assert new not in html and current not in html
    assert user_row(app, "olivia.officer").password_hash == before
    assert signed_in(client)


def test_an_empty_form_shows_each_field_error(app):
    client = client_signed_in(app)
    token = csrf_token(client, "/account/password")
    html = client.post("/account/password", data={"csrf_token": token}).get_data(as_text=True)
    assert "Enter your current password" in html and "Enter a new password" in html


def test_guessing_the_current_password_locks_and_signs_out(app):
    client = client_signed_in(app)
    later(1)
    for _ in range(4):
        assert "Enter your current password correctly" in change(
            client, "guess number one").get_data(as_text=True)
    response = change(client, "guess number five")
    assert response.headers["Location"] == "/sign-in"
    assert not signed_in(client)
    assert "Sign-in is paused" in sign_in(client, "olivia.officer").get_data(as_text=True)


def admin_client(app):
    with app.app_context(), unit() as session:
        uid = session.scalar(select(User.id).where(User.name == "ada.admin"))
    client = app.test_client()
    with client.session_transaction() as state:
        now = clock.now().isoformat()
        state.update(uid=uid, sid="test-admin", started=now, seen=now)
    return client


def test_disabling_an_account_ends_its_session_and_enabling_does_not_revive_it(app):
    olivia = client_signed_in(app)
    admin = admin_client(app)
    later(60)
    uid = user_row(app, "olivia.officer").id
    token = csrf_token(admin, "/admin/users")
    assert admin.post(f"/admin/users/{uid}/disable", data={
        "reason": "Left the council", "csrf_token": token}).status_code == 302
    assert not signed_in(olivia)
    assert admin.post(f"/admin/users/{uid}/enable",
                      data={"csrf_token": token}).status_code == 302
    assert not signed_in(olivia)  # the old cookie stays dead
    assert signed_in(client_signed_in(app))


def test_an_admin_password_reset_ends_the_users_sessions(app):
    olivia = client_signed_in(app)
    admin = admin_client(app)
    later(60)
    uid = user_row(app, "olivia.officer").id
    token = csrf_token(admin, "/admin/users")
    assert admin.post(f"/admin/users/{uid}/password", data={
        "password": NEW, "csrf_token": token}).status_code == 302
    assert not signed_in(olivia)
    weak = admin.post(f"/admin/users/{uid}/password", data={
        "password": "password12345", "csrf_token": token})
    assert weak.status_code == 400 and "too common" in weak.get_data(as_text=True)


def test_an_admin_resets_two_factor_sign_in(tmp_path):
    app = two_factor_app(tmp_path, ASB_SIGN_IN_RATE="100 per minute")
    olivia = app.test_client()
    enrol(olivia, "olivia.officer")
    admin = admin_client(app)
    uid = user_row(app, "olivia.officer").id
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "Reset two-factor sign-in" in page
    later(60)
    token = csrf_token(admin, "/admin/users")
    response = admin.post(f"/admin/users/{uid}/two-factor/reset", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Two-factor sign-in was reset" in admin.get(response.headers["Location"]).get_data(
        as_text=True)
    assert not signed_in(olivia)
    assert user_row(app, "olivia.officer").totp_secret is None
    (event,) = [e for e in audit(app) if e.action == "user.two_factor_reset"]
    assert event.actor == "ada.admin" and event.summary["user"] == "olivia.officer"
    assert sign_in(olivia, "olivia.officer").headers["Location"] == "/sign-in/set-up"
    assert admin_client(app).post(f"/admin/users/{uid}/two-factor/reset",
                                  data={"csrf_token": token}).status_code == 400
    officer = client_signed_in_without_code(app)
    refused = officer.post(f"/admin/users/{uid}/two-factor/reset",
                           data={"csrf_token": csrf_token(officer, "/inbox")})
    assert refused.status_code == 403


def client_signed_in_without_code(app):
    with app.app_context(), unit() as session:
        uid = session.scalar(select(User.id).where(User.name == "tara.leader"))
    client = app.test_client()
    with client.session_transaction() as state:
        now = clock.now().isoformat()
        state.update(uid=uid, sid="test-tara", started=now, seen=now)
    return client


def test_a_breached_password_is_refused_when_the_range_check_is_on(tmp_path, httpserver_ipv4):
    breached = "tulips in the rain at noon"
    httpserver_ipv4.expect_request(f"/range/{sha1(breached)[:5]}").respond_with_data(
        range_answer(breached))
    httpserver_ipv4.expect_request(f"/range/{sha1(NEW)[:5]}").respond_with_data(
        range_answer("something else entirely"))
    clock.set_now(START)
    app = make_app(tmp_path, ASB_HIBP_URL=httpserver_ipv4.url_for("/range/"))
    client = client_signed_in(app)
    html = change(client, new=breached).get_data(as_text=True)
    assert "has appeared in a data breach" in html
    assert change(client).status_code == 302
    sent = [request.path for request, _ in httpserver_ipv4.log]
    assert sent == [f"/range/{sha1(breached)[:5]}", f"/range/{sha1(NEW)[:5]}"]
    assert all(sha1(NEW)[5:] not in request.url for request, _ in httpserver_ipv4.log)


def test_the_range_check_is_off_by_default_and_a_dead_service_does_not_block(tmp_path):
    clock.set_now(START)
    app = make_app(tmp_path)
    assert app.config["ASB_HIBP_URL"] is None
    assert change(client_signed_in(app)).status_code == 302
    (tmp_path / "dead").mkdir()
    dead = make_app(tmp_path / "dead", ASB_HIBP_URL="http://127.0.0.1:9/range/")
    assert change(client_signed_in(dead)).status_code == 302


def test_the_session_keys_stay_as_before(app):
    client = client_signed_in(app)
    with client.session_transaction() as state:
        keys = set(state) - {"csrf_token", "_flashes", "_permanent"}
        assert keys == {"uid", "sid", "started", "seen"}
    assert START + timedelta(0) == clock.now()
