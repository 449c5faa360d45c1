"""A user is told by e-mail when their password, two-factor sign-in or account changes, and
passwords set by an administrator or the CLI pass the same checks as one's own.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.outbox import OutboxMessage, OutboxStatus
from cases.people import Team, User
from cases.staff import BrowserSession
from engine import clock
from tasks.notify.channels import SmtpChannel
from tasks.notify.outbox_sender import send_due
from tests.auth.support import START, enrol, two_factor_app
from tests.auth.test_passwords import range_answer, sha1
from tests.web.support import PASSWORD, csrf_token, make_app, sign_in
from web.cli import main
from web.extensions import unit

NEW = "tulips in the rain at dawn"
OLIVIA = "olivia@council.example.org"


def give_email(app, name="olivia.officer", address=OLIVIA):
    with app.app_context(), unit() as session:
        user = session.scalars(select(User).where(User.name == name)).one()
        user.email = address
        return user.id


@pytest.fixture
def app(tmp_path):
    clock.set_now(START)
    made = make_app(tmp_path, ASB_SIGN_IN_RATE="100 per minute")
    give_email(made)
    return made


def client_of(app, name):
    client = app.test_client()
    assert sign_in(client, name).status_code == 302
    return client


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/account/sessions"),
                                   **data})


def outbox(app):
    with app.app_context(), unit() as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return found


def events(app, action):
    with app.app_context(), unit() as session:
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                     .order_by(AuditEvent.id)))
        session.expunge_all()
        return found


def test_a_password_change_is_told_over_smtp_without_the_password(app, smtp):
    box, port = smtp
    olivia = client_of(app, "olivia.officer")
    assert post(olivia, "/account/password", current=PASSWORD, new=NEW,
                confirm=NEW).status_code == 302
    with app.app_context(), unit() as session:
        channel = SmtpChannel("127.0.0.1", port, "asb@council.example.org")
        assert send_due(session, {"email": channel}, clock.now()) == 1
    (envelope,) = box.envelopes
    assert envelope.rcpt_tos == [OLIVIA]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    body = mail.get_body(("plain",)).get_content()
    assert mail["Subject"] == "Your password was changed"
    assert "Your password was changed on 1 March 2027 at 09:00 (UK time)" in body
    assert "If it was not you" in body and "administrator" in body
    raw = envelope.content.decode("utf-8", "replace")
    assert NEW not in raw and PASSWORD not in raw
    assert outbox(app)[0].status is OutboxStatus.SENT
    (event,) = events(app, "account.notice_queued")
    assert event.object_id == "olivia.officer"
    assert event.summary["about"] == "password_changed"


def test_an_administrators_changes_are_told_and_never_hold_the_password(app):
    uid = give_email(app)
    admin = client_of(app, "ada.admin")
    typed = "marigolds under a winter moon"
    assert post(admin, f"/admin/users/{uid}/password", password=typed).status_code == 302
    shown = post(admin, f"/admin/users/{uid}/password", password="").get_data(as_text=True)
    generated = re.search(r'id="new-password">([^<]+)<', shown).group(1)
    assert post(admin, f"/admin/users/{uid}/disable", reason="Left").status_code == 302
    assert post(admin, f"/admin/users/{uid}/enable").status_code == 302
    assert post(admin, f"/admin/users/{uid}/sessions/revoke").status_code == 302
    sent = outbox(app)
    assert [m.subject for m in sent] == [
        "Your password was reset", "Your password was reset", "Your account was disabled",
        "Your account was enabled again", "You were signed out everywhere"]
    assert {m.to_address for m in sent} == {OLIVIA}
    assert all("by an administrator (ada.admin)" in m.body_text for m in sent)
    assert all(typed not in m.body_text and generated not in m.body_text for m in sent)
    assert [e.summary["about"] for e in events(app, "account.notice_queued")] == [
        "password_reset", "password_reset", "disabled", "enabled", "sessions_revoked"]


def test_two_factor_set_up_and_reset_are_told_without_secret_or_codes(tmp_path):
    app = two_factor_app(tmp_path, ASB_SIGN_IN_RATE="100 per minute")
    uid = give_email(app)
    secret, codes = enrol(app.test_client(), "olivia.officer")
    (enrolled,) = outbox(app)
    assert enrolled.subject == "Two-factor sign-in was set up"
    assert secret not in enrolled.body_text
    assert not any(code in enrolled.body_text or code.replace("-", "") in enrolled.body_text
                   for code in codes)
    admin = app.test_client()
    enrol(admin, "ada.admin")
    assert post(admin, f"/admin/users/{uid}/two-factor/reset").status_code == 302
    subjects = [m.subject for m in outbox(app) if m.to_address == OLIVIA]
    assert subjects == ["Two-factor sign-in was set up", "Your two-factor sign-in was reset"]


def test_without_an_address_the_missing_notice_is_audited(app):
    tara = client_of(app, "tara.leader")
    assert post(tara, "/account/password", current=PASSWORD, new=NEW,
                confirm=NEW).status_code == 302
    assert outbox(app) == []
    (event,) = events(app, "account.notice_not_sent")
    assert event.object_id == "tara.leader" and event.summary["why"] == "no e-mail address"


def test_an_administrator_cannot_set_a_breached_password(app, httpserver_ipv4):
    breached = "marigolds under a winter moon"
    httpserver_ipv4.expect_request(f"/range/{sha1(breached)[:5]}").respond_with_data(
        range_answer(breached))
    app.config["ASB_HIBP_URL"] = httpserver_ipv4.url_for("/range/")
    uid = give_email(app)
    admin = client_of(app, "ada.admin")
    page = post(admin, f"/admin/users/{uid}/password", password=breached)
    assert "has appeared in a data breach" in page.get_data(as_text=True)
    with app.app_context(), unit() as session:
        team = session.scalar(select(Team.id))
    page = post(admin, "/admin/users/new", name="nina.new", display_name="Nina New",
                role="officer", team=str(team), password=breached)
    assert "has appeared in a data breach" in page.get_data(as_text=True)
    common = post(admin, f"/admin/users/{uid}/password", password="Password123456!")
    assert "too common" in common.get_data(as_text=True)
    with app.app_context(), unit() as session:
        assert session.scalar(select(User).where(User.name == "nina.new")) is None
    assert outbox(app) == []


def test_the_cli_sets_a_password_ends_sessions_and_tells_the_user(app, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    olivia = client_of(app, "olivia.officer")
    result = CliRunner().invoke(main, ["users", "set-password", "olivia.officer",
                                       "--password", NEW])
    assert result.exit_code == 0, result.output
    assert "e-mail notice queued" in result.output and NEW not in result.output
    assert olivia.get("/inbox").headers["Location"].startswith("/sign-in")
    with app.app_context(), unit() as session:
        assert all(row.revoked_at is not None for row in session.scalars(select(BrowserSession)))
    (notice,) = outbox(app)
    assert notice.subject == "Your password was reset" and NEW not in notice.body_text
    assert sign_in(app.test_client(), "olivia.officer", NEW).status_code == 302
    weak = CliRunner().invoke(main, ["users", "set-password", "olivia.officer",
                                     "--password", "olivia.officer2027"])
    assert weak.exit_code == 2 and len(weak.output.strip().splitlines()) == 1
    assert "based on your name" in weak.output


def test_the_cli_refuses_a_breached_password_in_one_line(app, monkeypatch, httpserver_ipv4):
    breached = "marigolds under a winter moon"
    httpserver_ipv4.expect_request(f"/range/{sha1(breached)[:5]}").respond_with_data(
        range_answer(breached))
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("ASB_HIBP_URL", httpserver_ipv4.url_for("/range/"))
    for args in (["set-password", "olivia.officer"], ["add", "nina.new", "--role", "officer"]):
        result = CliRunner().invoke(main, ["users", *args, "--password", breached])
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert "has appeared in a data breach" in result.output
    assert sign_in(app.test_client(), "olivia.officer").status_code == 302
    assert outbox(app) == []


def test_new_recovery_codes_need_the_password_replace_the_old_and_are_told(tmp_path):
    from tests.auth.support import later, post_code

    app = two_factor_app(tmp_path, ASB_SIGN_IN_RATE="100 per minute")
    give_email(app)
    client = app.test_client()
    _, old_codes = enrol(client, "olivia.officer")
    assert "8 unused recovery codes" in client.get("/account/recovery-codes").get_data(
        as_text=True)
    wrong = post(client, "/account/recovery-codes", current="not my password at all")
    assert "Enter your password correctly" in wrong.get_data(as_text=True)
    assert 'href="#current"' in wrong.get_data(as_text=True)  # the summary links its field
    page = post(client, "/account/recovery-codes", current=PASSWORD).get_data(as_text=True)
    new_codes = re.findall(r"<li><code>([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})</code></li>", page)
    assert len(new_codes) == 8 and "Your old recovery codes no longer work" in page
    notice = outbox(app)[-1]
    assert notice.subject == "New recovery codes were made"
    assert not any(code in notice.body_text or code.replace("-", "") in notice.body_text
                   for code in new_codes)
    assert [e.object_id for e in events(app, "auth.recovery_codes_regenerated")] == [
        "olivia.officer"]
    # An old code no longer signs in; a new one does.
    later(60)
    other = app.test_client()
    assert sign_in(other, "olivia.officer").headers["Location"] == "/sign-in/code"
    refused = post_code(other, "/sign-in/code", old_codes[0])
    assert "Enter the 6-digit code" in refused.get_data(as_text=True)
    assert post_code(other, "/sign-in/code", new_codes[0]).status_code == 302
