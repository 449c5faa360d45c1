"""Two-factor sign-in: set-up at the first sign-in, codes after the password, no replays."""

from __future__ import annotations

import pytest

from engine import clock
from tests.auth.support import (
    SECRET_RE,
    audit,
    code_at,
    enrol,
    later,
    post_code,
    signed_in,
    two_factor_app,
    user_row,
)
from tests.web.support import csrf_token, make_app, sign_in


@pytest.fixture
def app(tmp_path):
    return two_factor_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


def test_the_first_sign_in_sets_up_an_authenticator_before_any_session(app, client):
    response = sign_in(client, "olivia.officer")
    assert response.headers["Location"] == "/sign-in/set-up"
    assert not signed_in(client)  # a right password alone opens nothing
    page = client.get("/sign-in/set-up").get_data(as_text=True)
    assert "<svg" in page and "QR code to scan with your authenticator app" in page
    secret = enrol_page_secret(page)
    wrong = post_code(client, "/sign-in/set-up", "000000").get_data(as_text=True)
    assert "Enter the 6-digit code your authenticator app shows now" in wrong
    assert not signed_in(client)
    done = post_code(client, "/sign-in/set-up", code_at(secret, clock.now()))
    html = done.get_data(as_text=True)
    assert "Two-factor sign-in is set up" in html and "shown only once" in html
    assert signed_in(client)
    with client.session_transaction() as state:
        assert {"uid", "sid", "started", "seen"} <= set(state)
        assert not any(key.startswith("pending") for key in state)
    actions = [e.action for e in audit(app, "olivia.officer")]
    assert actions == ["auth.password_accepted", "auth.sign_in_failed",
                       "auth.two_factor_enrolled", "account.notice_not_sent",
                       "auth.signed_in"]
    assert all(secret not in str(e.summary) for e in audit(app))


def enrol_page_secret(page: str) -> str:
    found = SECRET_RE.search(page)
    assert found
    return found.group(1).replace(" ", "")


def test_the_secret_is_stored_encrypted_and_never_shown_again(app, client):
    secret, codes = enrol(client, "olivia.officer")
    row = user_row(app, "olivia.officer")
    assert row.totp_secret and secret not in row.totp_secret
    assert row.recovery_codes and not any(
        code.replace("-", "") in row.recovery_codes for code in codes)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    later(60)
    sign_in(client, "olivia.officer")
    response = client.get("/sign-in/set-up")
    assert response.headers["Location"] == "/sign-in/code"
    assert secret not in client.get("/sign-in/code").get_data(as_text=True)


def test_an_enrolled_user_signs_in_with_a_code_and_lands_where_they_were_going(app, client):
    secret, _ = enrol(client, "olivia.officer")
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    later(30)
    response = client.post("/sign-in?next=/inbox?page=2", data={
        "user_name": "olivia.officer", "password": "correct horse battery staple",
        "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/sign-in/code"
    assert not signed_in(client)
    done = post_code(client, "/sign-in/code", code_at(secret, clock.now()))
    assert done.headers["Location"] == "/inbox?page=2"
    assert signed_in(client)


def test_a_used_code_is_refused_when_replayed(app, client):
    secret, _ = enrol(client, "olivia.officer")
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    sign_in(client, "olivia.officer")
    # The code that set the app up, still on screen within the same 30 seconds: refused.
    replay = post_code(client, "/sign-in/code", code_at(secret, clock.now()))
    assert replay.status_code == 200
    assert "Enter the 6-digit code" in replay.get_data(as_text=True)
    assert not signed_in(client)
    later(30)
    fresh = post_code(client, "/sign-in/code", code_at(secret, clock.now()))
    assert fresh.status_code == 302 and signed_in(client)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    sign_in(client, "olivia.officer")
    # An older code (the previous step, still inside the drift window) is refused too.
    assert post_code(client, "/sign-in/code", code_at(secret, later(0))).status_code == 200
    assert not signed_in(client)


def test_wrong_codes_count_towards_the_lockout(tmp_path):
    app = two_factor_app(tmp_path, ASB_SIGN_IN_RATE="100 per minute")  # lockout, not throttle
    client = app.test_client()
    secret, _ = enrol(client, "olivia.officer")
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    later(30)
    sign_in(client, "olivia.officer")
    for _ in range(3):
        page = post_code(client, "/sign-in/code", "123456").get_data(as_text=True)
        assert "Enter the 6-digit code" in page
    page = post_code(client, "/sign-in/code", "654321").get_data(as_text=True)
    assert "Enter the 6-digit code" in page
    locked = post_code(client, "/sign-in/code", "111111").get_data(as_text=True)
    assert "Sign-in is paused for this account" in locked
    # Locked: the password and then even the right code get nowhere for 15 minutes.
    later(60)
    again = sign_in(client, "olivia.officer").get_data(as_text=True)
    assert "Sign-in is paused for this account" in again
    assert not signed_in(client)
    failed = [e for e in audit(app, "olivia.officer") if e.action == "auth.sign_in_failed"]
    assert len(failed) == 5 and all(e.summary["step"] == "code" for e in failed)
    clock.set_now(clock.now().replace(minute=clock.now().minute + 16))
    sign_in(client, "olivia.officer")
    assert post_code(client, "/sign-in/code", code_at(secret, clock.now())).status_code == 302
    assert signed_in(client)


def test_a_recovery_code_works_once(app, client):
    _, codes = enrol(client, "olivia.officer")
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    later(30)
    sign_in(client, "olivia.officer")
    used = post_code(client, "/sign-in/code", codes[0].lower())
    assert used.status_code == 302
    assert "You used a recovery code: 7 left" in client.get("/inbox").get_data(as_text=True)
    assert user_row(app, "olivia.officer").recovery_codes.count(" ") == 6
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    sign_in(client, "olivia.officer")
    again = post_code(client, "/sign-in/code", codes[0])
    assert again.status_code == 200 and not signed_in(client)
    assert "auth.recovery_code_used" in [e.action for e in audit(app, "olivia.officer")]


def test_a_pending_sign_in_expires_after_five_minutes(client):
    sign_in(client, "olivia.officer")
    later(5 * 60 + 1)
    response = client.get("/sign-in/set-up")
    assert response.headers["Location"] == "/sign-in"
    assert "Your sign-in took too long" in client.get("/sign-in").get_data(as_text=True)


def test_the_code_pages_without_a_password_first_send_to_sign_in(client):
    for path in ("/sign-in/code", "/sign-in/set-up"):
        assert client.get(path).headers["Location"] == "/sign-in"
        token = csrf_token(client)
        response = client.post(path, data={"code": "123456", "csrf_token": token})
        assert response.headers["Location"] == "/sign-in"
    assert not signed_in(client)


def test_an_empty_code_is_shown_as_a_field_error(client):
    sign_in(client, "olivia.officer")
    response = post_code(client, "/sign-in/set-up", "")
    assert response.status_code == 400
    assert "Enter the code from your authenticator app" in response.get_data(as_text=True)


def test_the_code_step_shares_the_sign_in_throttle(tmp_path):
    app = two_factor_app(tmp_path, ASB_SIGN_IN_RATE="3 per minute")
    client = app.test_client()
    assert sign_in(client, "olivia.officer").status_code == 302
    assert post_code(client, "/sign-in/set-up", "000000").status_code == 200
    assert post_code(client, "/sign-in/set-up", "000001").status_code == 200
    response = post_code(client, "/sign-in/set-up", "000002")
    assert response.status_code == 429


def test_without_the_setting_the_password_alone_signs_in(tmp_path):
    client = make_app(tmp_path, ASB_REQUIRE_TOTP=False).test_client()
    assert sign_in(client, "olivia.officer").headers["Location"] == "/"
    assert signed_in(client)


def test_two_factor_is_on_unless_turned_off(tmp_path):
    from web import create_app

    app = make_app(tmp_path)
    fresh = create_app({"SECRET_KEY": "k", "DATABASE_URL": app.config["DATABASE_URL"],
                        "START_WORKER": False})
    assert fresh.config["ASB_REQUIRE_TOTP"] is True
    assert sign_in(fresh.test_client(), "olivia.officer").headers["Location"] == (
        "/sign-in/set-up")


def test_the_environment_turns_the_code_step_off(tmp_path, monkeypatch):
    from web import create_app

    app = make_app(tmp_path)
    monkeypatch.setenv("ASB_REQUIRE_TOTP", "false")
    demo = create_app({"SECRET_KEY": "k", "DATABASE_URL": app.config["DATABASE_URL"],
                       "START_WORKER": False})
    assert demo.config["ASB_REQUIRE_TOTP"] is False
    assert sign_in(demo.test_client(), "olivia.officer").headers["Location"] == "/"


def test_a_secret_the_key_no_longer_opens_asks_for_an_administrator(tmp_path):
    app = two_factor_app(tmp_path)
    client = app.test_client()
    secret, _ = enrol(client, "olivia.officer")
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    later(30)
    app.config["ASB_TOTP_KEY"] = "a different key altogether"
    sign_in(client, "olivia.officer")
    page = post_code(client, "/sign-in/code", code_at(secret, clock.now()))
    assert page.status_code == 200
    assert "Ask an administrator to reset it" in page.get_data(as_text=True)
    assert not signed_in(client)
