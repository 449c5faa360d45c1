"""Page guards: signed-in users only, and only some roles."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response

from cases.people import Role

P = ParamSpec("P")
R = TypeVar("R")


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site (never another host), else None."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _sign_in_redirect() -> Response:
    if g.get("session_expired"):
        flash("You have been signed out to protect case information. Sign in again.")
    here = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.sign_in", next=safe_next(here)))


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Send a caller who is not signed in to the sign-in page, to come back here after."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if g.get("user") is None:
            return _sign_in_redirect()
        return view(*args, **kwargs)

    return guarded


def roles_required(*roles: Role | str) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Like ``login_required``, and answer 403 to a user holding none of ``roles``."""
    allowed = frozenset(Role(r) for r in roles)

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            user = g.get("user")
            if user is None:
                return _sign_in_redirect()
            if user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate
