"""New recovery codes for a signed-in user (``/account/recovery-codes``), after their password."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cases.people import check_password
from engine import clock

from ..extensions import db
from . import lockout, notices, sessions, totp
from .forms import NewRecoveryCodesForm
from .guards import login_required

bp = Blueprint("recovery", __name__, url_prefix="/account")
REGENERATED = "auth.recovery_codes_regenerated"
WRONG = "Enter your password correctly"


def _page(form: NewRecoveryCodesForm, problem: str | None, status: int = 200
          ) -> tuple[str, int]:
    form.current.data = ""
    return render_template("auth/new_recovery_codes.html", form=form, problem=problem,
                           enrolled=totp.is_enrolled(g.user),
                           left=totp.recovery_codes_left(g.user)), status


@bp.route("/recovery-codes", methods=["GET", "POST"])
@login_required
def new_codes() -> str | Response | tuple[str, int]:
    """Replace one's recovery codes (the old ones stop working); show the new ones once."""
    form = NewRecoveryCodesForm()
    if request.method == "GET":
        return _page(form, None)
    if not form.validate_on_submit():
        return _page(form, None, 400)
    user, now, ip = g.user, clock.now(), request.remote_addr
    if not totp.is_enrolled(user):
        return _page(form, None, 400)
    if not check_password(user, form.current.data or ""):
        if lockout.note_failure(db(), user.name, now, ip, step="recovery codes"):
            sessions.end()
            flash("Sign-in is paused for this account after too many attempts. Wait 15 "
                  "minutes, then sign in again.")
            return redirect(url_for("auth.sign_in"))
        return _page(form, WRONG)
    codes = totp.new_recovery_codes(user)
    lockout.note_event(db(), REGENERATED, user.name, now, ip)
    notices.tell_user(db(), user, "recovery_codes_regenerated", now=now, by=user.name)
    return render_template("auth/recovery_codes.html", codes=codes, target=url_for("home.index"),
                           fresh=True)
