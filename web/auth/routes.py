"""Sign in and sign out (``/sign-in``, ``/sign-out``)."""

from __future__ import annotations

from contextlib import suppress

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cases.audit import AuditRecord, record
from cases.people import check_password, find_user
from engine import clock

from ..extensions import db
from . import lockout, sessions, two_factor
from .forms import SignInForm
from .guards import login_required, safe_next

bp = Blueprint("auth", __name__)
two_factor.add_routes(bp)

BAD_CREDENTIALS = "Enter a correct user name and password"
LOCKED = ("Sign-in is paused for this account after too many attempts. Wait 15 minutes, "
          "then try again, or ask an administrator to help.")
_timing: dict[str, str] = {}


def _equalise_timing(password: str) -> None:
    """Spend as long on an unknown user name as on a wrong password."""
    hasher = PasswordHasher()
    if "hash" not in _timing:
        _timing["hash"] = hasher.hash("a password nobody has")
    with suppress(VerificationError):
        hasher.verify(_timing["hash"], password)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    """Show the sign-in form; sign the user in with a fresh session."""
    target = safe_next(request.args.get("next"))
    if request.method == "GET" and g.get("auth") == "session":
        return redirect(target or url_for("home.index"))
    form = SignInForm()
    if request.method == "GET":
        return render_template("auth/sign_in.html", form=form, problem=None)
    if not form.validate_on_submit():
        return render_template("auth/sign_in.html", form=form, problem=None), 400
    name, now, ip = form.user_name.data or "", clock.now(), request.remote_addr
    session = db()
    if lockout.is_locked(session, name, now):
        lockout.note_event(session, lockout.REFUSED, name, now, ip)
        return _refused(form, LOCKED)
    user = find_user(session, name)
    if user is None or not user.active:
        _equalise_timing(form.password.data or "")
        ok = False
    else:
        ok = check_password(user, form.password.data or "")
    if not ok or user is None:
        locked = lockout.note_failure(session, name, now, ip)
        return _refused(form, LOCKED if locked else BAD_CREDENTIALS)
    if current_app.config["ASB_REQUIRE_TOTP"]:
        lockout.note_event(session, lockout.PASSWORD_ACCEPTED, name, now, ip)
        return two_factor.begin(user, target, now)
    sessions.begin(user)
    lockout.note_event(session, lockout.SIGNED_IN, name, now, ip)
    return redirect(target or url_for("home.index"))


def _refused(form: SignInForm, message: str) -> tuple[str, int]:
    form.password.data = ""
    return render_template("auth/sign_in.html", form=form, problem=message), 200


@bp.post("/sign-out")
@login_required
def sign_out() -> Response:
    """End the session (the form carries a CSRF token) and audit it."""
    user = g.user
    record(db(), AuditRecord(at=clock.now(), actor=user.name, action="auth.signed_out",
                             object_type="user", object_id=user.name,
                             summary={"ip": request.remote_addr}))
    sessions.end()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))
