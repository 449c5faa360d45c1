"""Signing in and out, throttling, lockout, timeouts and the role's landing page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from engine import clock
from tests.web.support import PASSWORD, csrf_token, make_app, session_cookie, sign_in
from web.extensions import unit

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path):
    clock.set_now(START)
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


def audit_actions(app, name):
    with app.app_context(), unit() as session:
        return session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == name)
                               .order_by(AuditEvent.id)).all()


@pytest.mark.parametrize(("name", "landing"), [
    ("olivia.officer", "/inbox"), ("tara.leader", "/inbox"), ("pat.owner", "/diagrams"),
    ("mina.manager", "/dashboard"), ("ada.admin", "/admin"),
])
def test_sign_in_rotates_the_session_and_lands_on_the_roles_page(app, client, name, landing):
    client.get("/sign-in")
    before = session_cookie(client)
    assert before  # the form's CSRF token already lives in a session
    response = sign_in(client, name)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert session_cookie(client) != before
    page = client.get("/", follow_redirects=True)
    assert page.request.path == landing
    html = page.get_data(as_text=True)
    assert name in html and "Sign out" in html
    assert audit_actions(app, name) == ["auth.signed_in"]


def test_sign_in_goes_back_to_a_safe_next_page_only(client):
    token = csrf_token(client)
    response = client.post("/sign-in?next=/inbox?page=2", data={
        "user_name": "olivia.officer", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/inbox?page=2"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"):
        token = csrf_token(client)
        response = client.post("/sign-in", query_string={"next": evil}, data={
            "user_name": "olivia.officer", "password": PASSWORD, "csrf_token": token})
        assert response.headers["Location"] == "/"
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})


def test_a_page_needing_sign_in_redirects_there_with_next(client):
    response = client.get("/inbox?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/inbox?page%3D2"


def test_wrong_password_reshows_the_form_with_the_error_and_the_name(app, client):
    response = sign_in(client, "olivia.officer", "not the password at all")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert "Enter a correct user name and password" in html
    assert 'value="olivia.officer"' in html
    assert "not the password at all" not in html
    assert "Sign out" not in html
    assert client.get("/inbox").status_code == 302  # still not signed in
    assert audit_actions(app, "olivia.officer") == ["auth.sign_in_failed"]


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(app, client):
    wrong = sign_in(client, "olivia.officer", "not the password at all").get_data(as_text=True)
    unknown = sign_in(client, "nobody.here", "not the password at all").get_data(as_text=True)
    assert "Enter a correct user name and password" in wrong
    assert "Enter a correct user name and password" in unknown
    assert audit_actions(app, "nobody.here") == ["auth.sign_in_failed"]


def test_empty_form_shows_field_errors(client):
    token = csrf_token(client)
    response = client.post("/sign-in", data={"csrf_token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter your user name" in html and "Enter your password" in html
    assert 'href="#user_name"' in html


def test_sign_in_is_throttled_per_address(tmp_path):
    app = make_app(tmp_path, ASB_SIGN_IN_RATE="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert sign_in(client, "nobody.here", "wrong password 123").status_code == 200
    response = sign_in(client, "olivia.officer")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    # The default is 10 a minute.
    (tmp_path / "default").mkdir()
    client = make_app(tmp_path / "default").test_client()
    codes = [sign_in(client, "nobody.here", "wrong password 123").status_code
             for _ in range(11)]
    assert codes == [200] * 10 + [429]


def test_five_failures_lock_the_account_for_fifteen_minutes(app, client):
    for _ in range(4):
        html = sign_in(client, "olivia.officer", "wrong password 123").get_data(as_text=True)
        assert "Enter a correct user name and password" in html
    html = sign_in(client, "olivia.officer", "wrong password 123").get_data(as_text=True)
    assert "Sign-in is paused for this account" in html
    # Even the right password is refused while locked.
    clock.set_now(START + timedelta(minutes=14))
    html = sign_in(client, "olivia.officer").get_data(as_text=True)
    assert "Sign-in is paused for this account" in html
    assert client.get("/inbox").status_code == 302
    clock.set_now(START + timedelta(minutes=15, seconds=1))
    assert sign_in(client, "olivia.officer").headers["Location"] == "/"
    assert audit_actions(app, "olivia.officer") == [
        *["auth.sign_in_failed"] * 5, "auth.account_locked", "auth.sign_in_refused",
        "auth.signed_in"]


def test_an_unknown_name_locks_the_same_way(client):
    for _ in range(5):
        html = sign_in(client, "nobody.here", "wrong password 123").get_data(as_text=True)
    assert "Sign-in is paused for this account" in html


def test_a_success_resets_the_failure_count(client):
    for _ in range(4):
        sign_in(client, "olivia.officer", "wrong password 123")
    assert sign_in(client, "olivia.officer").status_code == 302
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    html = sign_in(client, "olivia.officer", "wrong password 123").get_data(as_text=True)
    assert "Enter a correct user name and password" in html


def test_sign_out_needs_the_csrf_token_and_ends_the_session(app, client):
    sign_in(client, "olivia.officer")
    refused = client.post("/sign-out")
    assert refused.status_code == 400
    assert "Your form could not be checked" in refused.get_data(as_text=True)
    assert client.get("/inbox").status_code == 200  # still signed in
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert "You have signed out" in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/inbox").status_code == 302
    assert audit_actions(app, "olivia.officer") == ["auth.signed_in", "auth.signed_out"]


def test_sign_in_form_needs_the_csrf_token(client):
    response = client.post("/sign-in", data={"user_name": "olivia.officer",
                                             "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/inbox").status_code == 302


def test_idle_timeout_signs_the_user_out(client):
    sign_in(client, "olivia.officer")
    clock.set_now(START + timedelta(minutes=29))
    assert client.get("/inbox").status_code == 200  # activity moves the idle deadline
    clock.set_now(START + timedelta(minutes=58))
    assert client.get("/inbox").status_code == 200
    clock.set_now(START + timedelta(minutes=88, seconds=1))
    response = client.get("/inbox")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You have been signed out" in page


def test_absolute_timeout_signs_the_user_out_however_active(client):
    sign_in(client, "olivia.officer")
    for minutes in range(20, 10 * 60, 20):
        clock.set_now(START + timedelta(minutes=minutes))
        assert client.get("/inbox").status_code == 200
    clock.set_now(START + timedelta(hours=10, minutes=1))
    assert client.get("/inbox").status_code == 302


def test_a_form_sent_after_the_session_timed_out_asks_to_sign_in_again(client):
    sign_in(client, "olivia.officer")
    token = csrf_token(client, "/inbox")
    clock.set_now(START + timedelta(hours=1))
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"


def test_wrong_role_gets_403_page(client):
    sign_in(client, "olivia.officer")
    response = client.get("/dashboard")
    assert response.status_code == 403
    assert "You do not have permission" in response.get_data(as_text=True)


def test_signed_in_user_visiting_sign_in_goes_home(client):
    sign_in(client, "mina.manager")
    response = client.get("/sign-in")
    assert response.status_code == 302


def test_a_member_of_the_public_finds_the_report_form_and_their_case_without_an_account(
        client):
    page = client.get("/sign-in").get_data(as_text=True)
    main, footer = page.split('<footer', 1)
    for text, href in (("Report anti-social behaviour", "/report"),
                       ("follow a case you reported", "/follow")):
        assert f'href="{href}">{text}</a>' in main
    assert 'href="/report">Report anti-social behaviour</a>' in footer
    assert 'href="/follow">Follow your report</a>' in footer
    assert client.get("/report").status_code == 200 and client.get("/follow").status_code == 200
