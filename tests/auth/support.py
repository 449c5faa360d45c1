"""Two-factor sign-in in tests: an app that asks for codes, and the steps a person takes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from cases.audit import AuditEvent
from cases.people import User
from engine import clock
from tests.web.support import csrf_token, make_app, sign_in
from web.extensions import unit

START = datetime(2027, 3, 1, 9, 0, 10, tzinfo=UTC)
SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
CODES_RE = re.compile(r"<li><code>([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})</code></li>")


def two_factor_app(tmp_path: Path, **overrides: Any) -> Flask:
    """The test app with one user per role, asking for a code after the password."""
    clock.set_now(START)
    return make_app(tmp_path, ASB_REQUIRE_TOTP=True, **overrides)


def post_code(client: FlaskClient, path: str, code: str, **kwargs: Any) -> TestResponse:
    """Post a code to the set-up or code page with the page's CSRF token."""
    return client.post(path, data={"code": code, "csrf_token": csrf_token(client, path)},
                       **kwargs)


def code_at(secret: str, moment: datetime) -> str:
    """The code an authenticator app shows at ``moment``."""
    return pyotp.TOTP(secret).at(moment)


def enrol(client: FlaskClient, name: str) -> tuple[str, list[str]]:
    """Sign in for the first time, set up the app; return the secret and recovery codes."""
    response = sign_in(client, name)
    assert response.headers["Location"] == "/sign-in/set-up", response.status_code
    found = SECRET_RE.search(client.get("/sign-in/set-up").get_data(as_text=True))
    assert found, "no key on the set-up page"
    secret = found.group(1).replace(" ", "")
    page = post_code(client, "/sign-in/set-up", code_at(secret, clock.now()))
    assert page.status_code == 200
    codes = CODES_RE.findall(page.get_data(as_text=True))
    assert len(codes) == 8
    return secret, codes


def later(seconds: float) -> datetime:
    """Move the product clock on by ``seconds``; return the new time."""
    moment = clock.now() + timedelta(seconds=seconds)
    clock.set_now(moment)
    return moment


def user_row(app: Flask, name: str) -> User:
    with app.app_context(), unit() as session:
        user = session.scalars(select(User).where(User.name == name)).one()
        session.expunge(user)
        return user


def audit(app: Flask, name: str | None = None) -> list[AuditEvent]:
    with app.app_context(), unit() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if name is not None:
            query = query.where(AuditEvent.object_id == name)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def signed_in(client: FlaskClient) -> bool:
    """Tell whether ``client`` holds a signed-in session (the inbox opens)."""
    return client.get("/inbox").status_code == 200
