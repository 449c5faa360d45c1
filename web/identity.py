"""Who is calling: a personal API token, or a signed-in browser session with timeouts."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import Flask, current_app, g, request, session
from sqlalchemy import select

from cases.people import User, user_for_token
from engine import clock

from .extensions import db

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=10)


def init_app(app: Flask) -> None:
    """Identify the caller before every request; harden the session cookie."""
    hardened = {"SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True,
                "SESSION_COOKIE_SAMESITE": "Lax", "SESSION_COOKIE_NAME": "asb_session"}
    for key, value in hardened.items():
        # Flask's config always holds these keys, so setdefault would never apply ours.
        if app.config.get(key) == Flask.default_config[key]:
            app.config[key] = value
    for key, default in (("ASB_IDLE_TIMEOUT", IDLE_TIMEOUT),
                         ("ASB_ABSOLUTE_TIMEOUT", ABSOLUTE_TIMEOUT)):
        value = app.config.setdefault(key, default)
        if isinstance(value, int | float) and not isinstance(value, bool):
            app.config[key] = timedelta(minutes=value)  # from the environment, in minutes
        elif not isinstance(value, timedelta):
            from . import ConfigError

            raise ConfigError(f"{key} must be a number of minutes, not {value!r}")
    app.before_request(load_caller)


def load_caller() -> None:
    """Set ``g.user`` (or None), ``g.auth`` ("token" or "session") and ``g.bad_token``."""
    g.user, g.auth, g.bad_token = None, None, False
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        user = (user_for_token(db(), token.strip(), clock.now())
                if scheme.lower() == "bearer" and token.strip() else None)
        if user is None:
            g.bad_token = True
        else:
            g.user, g.auth = user, "token"
        return
    _load_session_user()


def _load_session_user() -> None:
    uid = session.get("uid")
    if uid is None:
        return
    now = clock.now()
    try:
        started = datetime.fromisoformat(session["started"])
        seen = datetime.fromisoformat(session["seen"])
    except (KeyError, TypeError, ValueError):
        session.clear()
        return
    if (now - seen > current_app.config["ASB_IDLE_TIMEOUT"]
            or now - started > current_app.config["ASB_ABSOLUTE_TIMEOUT"]):
        session.clear()
        g.session_expired = True
        return
    user = db().scalar(select(User).where(User.id == uid))
    if user is None or not user.active:
        session.clear()
        return
    revoked = user.sessions_revoked_at
    if revoked is not None and started < revoked:
        # The password changed (or an administrator acted) after this session began.
        session.clear()
        g.session_expired = True
        return
    session["seen"] = now.isoformat()
    g.user, g.auth = user, "session"


def sign_in(user: User) -> None:
    """Start a fresh session for ``user`` (nothing of the previous session survives)."""
    session.clear()
    now = clock.now().isoformat()
    session.update(uid=user.id, sid=secrets.token_urlsafe(16), started=now, seen=now)
    session.permanent = False
    g.user, g.auth = user, "session"


def sign_out() -> None:
    """End the session."""
    session.clear()
    g.user, g.auth = None, None


def current_user() -> User | None:
    """The caller, if identified."""
    user: User | None = g.get("user")
    return user
