"""An app on a temporary SQLite file with one user per role, and browser helpers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.database import make_engine, make_session_factory, unit_of_work
from migrations.runner import upgrade
from web import create_app

PASSWORD = "correct horse battery staple"
USERS = {
    "olivia.officer": "officer",
    "tara.leader": "team_leader",
    "pat.owner": "process_owner",
    "mina.manager": "manager",
    "ada.admin": "admin",
}
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_app(tmp_path: Path, **overrides: Any) -> Flask:
    """An app on a fresh SQLite file holding the demo users, all with ``PASSWORD``."""
    from cases.people import create_user

    url = f"sqlite:///{tmp_path / 'web.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        for name, role in USERS.items():
            create_user(session, name, role, password=PASSWORD,
                        display_name=name.replace(".", " ").title())
    engine.dispose()
    # The password step alone, unless a test asks for two-factor sign-in (tests/auth/ does).
    config = {"SECRET_KEY": "test-only-key", "DATABASE_URL": url, "START_WORKER": False,
              "ASB_REQUIRE_TOTP": False}
    config.update(overrides)
    return create_app(config)


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    """Fetch ``path`` and return the CSRF token from its form."""
    found = CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD,
            **kwargs: Any) -> TestResponse:
    """Post the sign-in form as a browser would (token included)."""
    token = csrf_token(client)
    return client.post("/sign-in", data={"user_name": name, "password": password,
                                         "csrf_token": token}, **kwargs)


def session_cookie(client: FlaskClient) -> str | None:
    """The session cookie's current value."""
    cookie = client.get_cookie("asb_session")
    return cookie.value if cookie else None
