"""The second sign-in step: a code from an authenticator app, set up at the first sign-in.

After a correct password the browser holds only a short-lived *pending* sign-in
(``pending_uid``, ``pending_at``, ``pending_next``); the signed-in session (``uid``, ``sid``,
``started``, ``seen``) is made only once the code is right.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.people import User
from engine import clock

from ..extensions import db
from ..templating import council_name
from . import lockout, notices, sessions, totp
from .forms import CodeForm, SignInForm

PENDING_FOR = timedelta(minutes=5)
_PENDING_KEYS = ("pending_uid", "pending_at", "pending_next")
WRONG_CODE = "Enter the 6-digit code your authenticator app shows now, or a recovery code"
LOCKED = ("Sign-in is paused for this account after too many attempts. Wait 15 minutes, "
          "then try again, or ask an administrator to help.")
START_AGAIN = "Your sign-in took too long. Sign in again."
UNREADABLE = ("Your two-factor sign-in cannot be checked. Ask an administrator to reset it, "
              "then sign in and set it up again.")
ENROLLED = "auth.two_factor_enrolled"
RECOVERY_USED = "auth.recovery_code_used"


def begin(user: User, target: str | None, now: datetime) -> Response:
    """Hold a pending sign-in for ``user`` and send them to the code (or set-up) page."""
    session.clear()
    session.update(pending_uid=user.id, pending_at=now.isoformat(), pending_next=target or "")
    if totp.is_enrolled(user):
        return redirect(url_for("auth.two_factor_code"))
    totp.start_enrolment(user)
    return redirect(url_for("auth.two_factor_set_up"))


def _pending_user() -> User | None:
    uid = session.get("pending_uid")
    try:
        started = datetime.fromisoformat(str(session.get("pending_at")))
    except ValueError:
        return None
    if uid is None or clock.now() - started > PENDING_FOR:
        return None
    user = db().scalar(select(User).where(User.id == uid))
    return user if user is not None and user.active else None


def _start_again() -> Response:
    for key in _PENDING_KEYS:
        session.pop(key, None)
    if g.get("auth") == "session":
        return redirect(url_for("home.index"))
    flash(START_AGAIN)
    return redirect(url_for("auth.sign_in"))


def _locked_out() -> tuple[str, int]:
    session.clear()
    return render_template("auth/sign_in.html", form=SignInForm(), problem=LOCKED), 200


def _finish(user: User, now: datetime) -> str:
    target = str(session.get("pending_next") or "") or url_for("home.index")
    sessions.begin(user)
    lockout.note_event(db(), lockout.SIGNED_IN, user.name, now, request.remote_addr)
    return target


def code() -> str | Response | tuple[str, int]:
    """Ask for the code of a user who has set up two-factor sign-in."""
    user = _pending_user()
    if user is None:
        return _start_again()
    if not totp.is_enrolled(user):
        return redirect(url_for("auth.two_factor_set_up"))
    form = CodeForm()
    if request.method == "GET":
        return render_template("auth/code.html", form=form, problem=None)
    if not form.validate_on_submit():
        return render_template("auth/code.html", form=form, problem=None), 400
    now, ip, typed = clock.now(), request.remote_addr, form.code.data or ""
    if lockout.is_locked(db(), user.name, now):
        lockout.note_event(db(), lockout.REFUSED, user.name, now, ip)
        return _locked_out()
    try:
        right = totp.check_code(user, typed, now)
    except totp.SecretUnreadable:
        session.clear()  # the key changed since set-up: only an administrator can help
        lockout.note_event(db(), lockout.REFUSED, user.name, now, ip, why="secret unreadable")
        return render_template("auth/sign_in.html", form=SignInForm(),
                               problem=UNREADABLE), 200
    if right:
        return redirect(_finish(user, now))
    if totp.use_recovery_code(user, typed):
        lockout.note_event(db(), RECOVERY_USED, user.name, now, ip,
                           left=str(totp.recovery_codes_left(user)))
        target = _finish(user, now)
        flash(f"You used a recovery code: {totp.recovery_codes_left(user)} left. If you have "
              "lost your authenticator app, ask an administrator to reset two-factor sign-in.")
        return redirect(target)
    if lockout.note_failure(db(), user.name, now, ip, step="code"):
        return _locked_out()
    form.code.data = ""
    return render_template("auth/code.html", form=form, problem=WRONG_CODE), 200


def _set_up_page(user: User, form: CodeForm, problem: str | None) -> str:
    secret = totp.secret_of(user)
    svg = totp.qr_svg(totp.provisioning_uri(user, council_name()))
    # segno's own SVG markup, holding no user input:
    qr = Markup(svg)  # noqa: S704 # nosec B704
    return render_template("auth/set_up.html", form=form, problem=problem, qr=qr,
                           secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)))


def set_up() -> str | Response | tuple[str, int]:
    """Show a new secret (QR code and text) and confirm it with a code; then recovery codes."""
    user = _pending_user()
    if user is None or user.totp_secret is None:
        return _start_again()
    if totp.is_enrolled(user):
        return redirect(url_for("auth.two_factor_code"))
    try:
        totp.secret_of(user)
    except totp.SecretUnreadable:
        return _start_again()
    form = CodeForm()
    if request.method == "GET":
        return _set_up_page(user, form, None)
    if not form.validate_on_submit():
        return _set_up_page(user, form, None), 400
    now, ip = clock.now(), request.remote_addr
    if lockout.is_locked(db(), user.name, now):
        lockout.note_event(db(), lockout.REFUSED, user.name, now, ip)
        return _locked_out()
    if not totp.check_code(user, form.code.data or "", now):
        if lockout.note_failure(db(), user.name, now, ip, step="set-up"):
            return _locked_out()
        form.code.data = ""
        return _set_up_page(user, form, WRONG_CODE), 200
    user.totp_enrolled_at = now
    codes = totp.new_recovery_codes(user)
    lockout.note_event(db(), ENROLLED, user.name, now, ip)
    notices.tell_user(db(), user, "two_factor_enrolled", now=now, by=user.name)
    target = _finish(user, now)
    return render_template("auth/recovery_codes.html", codes=codes, target=target)


def add_routes(bp: Blueprint) -> None:
    """Register the second-step pages on the sign-in blueprint."""
    bp.add_url_rule("/sign-in/code", "two_factor_code", code, methods=["GET", "POST"])
    bp.add_url_rule("/sign-in/set-up", "two_factor_set_up", set_up, methods=["GET", "POST"])
