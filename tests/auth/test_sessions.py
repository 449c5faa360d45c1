"""Server-side session records: the list of one's own sessions, signing out the others,
sign-out ending the session for good, and an administrator signing a user out everywhere.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.people import User
from cases.staff import BrowserSession
from engine import clock
from tests.auth.support import START, later, signed_in
from tests.web.support import csrf_token, make_app, session_cookie, sign_in
from web.extensions import unit

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
EDGE = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0")


@pytest.fixture
def app(tmp_path):
    clock.set_now(START)
    return make_app(tmp_path, ASB_SIGN_IN_RATE="100 per minute")


def browser(app, name, agent=FIREFOX, address="192.168.10.20"):
    """A client signed in as ``name`` from a browser with ``agent`` at ``address``."""
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    assert sign_in(client, name).status_code == 302
    return client


def rows(app, name):
    with app.app_context(), unit() as session:
        found = list(session.scalars(
            select(BrowserSession).join(User, User.id == BrowserSession.user_id)
            .where(User.name == name).order_by(BrowserSession.id)))
        session.expunge_all()
        return found


def sessions_page(client):
    response = client.get("/account/sessions")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sign_out_others(client):
    token = csrf_token(client, "/account/sessions")
    return client.post("/account/sessions/sign-out-others", data={"csrf_token": token})


def table_rows(html):
    return re.findall(r"<tr class=\"govuk-table__row\">\s*<td.*?</tr>", html, re.S)


def test_the_list_shows_my_sessions_coarsely_with_this_one_marked(app):
    laptop = browser(app, "olivia.officer")
    later(90)
    browser(app, "olivia.officer", IPHONE, "10.1.2.3")
    browser(app, "tara.leader", EDGE, "172.16.5.6")
    later(30)
    html = sessions_page(laptop)
    listed = table_rows(html)
    assert len(listed) == 2
    assert "Safari on iPhone" in listed[0] and "10.1.x.x" in listed[0]
    assert "Firefox on Windows" in listed[1] and "192.168.x.x" in listed[1]
    assert "This session" in listed[1] and "This session" not in listed[0]
    # Never the full address or User-Agent, and never another user's session.
    assert "192.168.10.20" not in html and "10.1.2.3" not in html and FIREFOX not in html
    assert "Edge on Mac" not in html and "172.16" not in html


def test_the_list_needs_sign_in_and_signing_out_others_needs_the_csrf_token(app):
    assert app.test_client().get("/account/sessions").headers["Location"].startswith(
        "/sign-in")
    laptop = browser(app, "olivia.officer")
    browser(app, "olivia.officer", IPHONE, "10.1.2.3")
    assert laptop.post("/account/sessions/sign-out-others", data={}).status_code == 400
    assert all(row.revoked_at is None for row in rows(app, "olivia.officer"))


def test_signing_out_the_others_ends_them_at_their_next_request(app):
    laptop = browser(app, "olivia.officer")
    phone = browser(app, "olivia.officer", IPHONE, "10.1.2.3")
    tara = browser(app, "tara.leader", EDGE)
    assert signed_in(laptop) and signed_in(phone)
    later(60)
    response = sign_out_others(phone)
    assert response.headers["Location"] == "/account/sessions"
    assert "You signed out of 1 other session." in phone.get("/account/sessions").get_data(
        as_text=True)
    gone = laptop.get("/inbox")
    assert gone.headers["Location"].startswith("/sign-in")
    assert not signed_in(laptop)
    assert signed_in(phone) and signed_in(tara)  # this session, and other users', go on
    assert len(table_rows(sessions_page(phone))) == 1
    with app.app_context(), unit() as session:
        (event,) = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.signed_out_other_sessions"))
        assert event.object_id == "olivia.officer" and event.summary["ended"] == 1


def test_the_cookie_holds_a_random_id_and_the_database_only_its_digest(app):
    client = browser(app, "olivia.officer")
    with client.session_transaction() as state:
        sid = state["sid"]
    (row,) = rows(app, "olivia.officer")
    assert len(sid) >= 20 and row.token_hash == hashlib.sha256(sid.encode()).hexdigest()
    assert sid not in {row.token_hash, row.browser, row.network}
    assert row.created_at == START and row.revoked_at is None


def test_a_signed_out_cookie_replayed_is_refused(app):
    client = browser(app, "olivia.officer")
    copied = session_cookie(client)
    token = csrf_token(client, "/inbox")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    (row,) = rows(app, "olivia.officer")
    assert row.revoked_at is not None
    thief = app.test_client()
    thief.set_cookie("asb_session", copied)
    assert thief.get("/inbox").headers["Location"].startswith("/sign-in")


def test_last_seen_is_written_at_most_once_a_minute(app):
    client = browser(app, "olivia.officer")
    later(40)
    assert signed_in(client)
    assert rows(app, "olivia.officer")[0].last_seen_at == START
    moment = later(30)
    assert signed_in(client)
    assert rows(app, "olivia.officer")[0].last_seen_at == moment


def test_a_password_change_ends_every_session_record(app):
    laptop = browser(app, "olivia.officer")
    phone = browser(app, "olivia.officer", IPHONE)
    token = csrf_token(phone, "/account/password")
    new = "tulips in the rain at dawn"
    assert phone.post("/account/password", data={
        "current": "correct horse battery staple", "new": new, "confirm": new,
        "csrf_token": token}).status_code == 302
    old_laptop, old_phone, fresh = rows(app, "olivia.officer")
    assert old_laptop.revoked_at is not None and old_phone.revoked_at is not None
    assert fresh.revoked_at is None
    assert signed_in(phone) and not signed_in(laptop)
    assert len(table_rows(sessions_page(phone))) == 1


def test_an_administrator_sees_and_ends_a_users_sessions(app):
    olivia = browser(app, "olivia.officer")
    admin = browser(app, "ada.admin", EDGE)
    with app.app_context(), unit() as session:
        uid = session.scalar(select(User.id).where(User.name == "olivia.officer"))
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "Firefox on Windows" in page and "192.168.x.x" in page
    assert "Edge on Mac" not in page  # the administrator's own session is not olivia's
    token = csrf_token(admin, f"/admin/users/{uid}")
    response = admin.post(f"/admin/users/{uid}/sessions/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert not signed_in(olivia) and admin.get("/admin").status_code == 200
    assert "No open sessions" in admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    with app.app_context(), unit() as session:
        (event,) = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.sessions_revoked"))
        assert event.actor == "ada.admin" and event.summary["ended"] == 1


def test_a_session_begun_before_the_records_is_adopted_then_revocable(app):
    with app.app_context(), unit() as session:
        uid = session.scalar(select(User.id).where(User.name == "olivia.officer"))
    old = app.test_client()
    with old.session_transaction() as state:
        now = clock.now().isoformat()
        state.update(uid=uid, sid="made-before-the-upgrade", started=now, seen=now)
    later(5)
    # Never used since the upgrade while another session signs the others out: refused.
    unused = app.test_client()
    with unused.session_transaction() as state:
        state.update(uid=uid, sid="also-before-the-upgrade", started=now, seen=now)
    assert signed_in(old)
    assert len(rows(app, "olivia.officer")) == 1
    later(5)
    phone = browser(app, "olivia.officer", IPHONE)
    sign_out_others(phone)
    assert not signed_in(old) and not signed_in(unused) and signed_in(phone)


def test_every_signed_in_page_links_to_where_one_is_signed_in(tmp_path):
    from tests.web.support import make_app, sign_in

    client = make_app(tmp_path).test_client()
    sign_in(client, "olivia.officer")
    page = client.get("/account/password").get_data(as_text=True)
    assert 'href="/account/sessions"' in page and "Where you are signed in" in page
