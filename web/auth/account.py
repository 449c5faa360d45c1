"""A signed-in user's own account: changing their password (``/account/password``)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cases import staff
from cases.audit import AuditRecord, record
from cases.people import PeopleError, check_new_password, check_password, set_password
from engine import clock

from ..extensions import db, rollback_only
from ..templating import council_name
from . import lockout, notices, sessions
from .breached import breach_problem
from .forms import ChangePasswordForm
from .guards import login_required

bp = Blueprint("account", __name__, url_prefix="/account")

WRONG_CURRENT = "Enter your current password correctly"
NOT_SAME = "Type the same new password twice"
CHANGED = "auth.password_changed"


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _show(form: ChangePasswordForm, errors: dict[str, str], status: int = 200
          ) -> tuple[str, int]:
    for field in (form.current, form.new, form.confirm):
        field.data = ""  # a password is never sent back to the browser
    error_list = [{"text": message, "href": f"#{name}"} for name, message in errors.items()]
    return render_template("auth/change_password.html", form=form, errors=errors,
                           error_list=error_list), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    """Change one's own password: the current one first; other sessions end."""
    form = ChangePasswordForm()
    if request.method == "GET":
        return render_template("auth/change_password.html", form=form, errors={},
                               error_list=[])
    if not form.validate_on_submit():
        return _show(form, {name: messages[0] for name, messages in form.errors.items()
                            if messages}, 400)
    user, now, ip, session = g.user, clock.now(), request.remote_addr, db()
    if not check_password(user, form.current.data or ""):
        if lockout.note_failure(session, user.name, now, ip, step="change password"):
            sessions.end()
            flash("Sign-in is paused for this account after too many attempts. Wait 15 "
                  "minutes, then sign in again.")
            return redirect(url_for("auth.sign_in"))
        return _show(form, {"current": WRONG_CURRENT})
    new = form.new.data or ""
    errors: dict[str, str] = {}
    if new != (form.confirm.data or ""):
        errors["confirm"] = NOT_SAME
    else:
        try:
            check_new_password(new, (user.name, user.display_name, user.email, council_name()))
        except PeopleError as exc:
            errors["new"] = _sentence(exc.message)
        else:
            if new == form.current.data:
                errors["new"] = "Choose a password different from your current one"
            elif (breached := breach_problem(new)) is not None:
                errors["new"] = _sentence(breached)
    if errors:
        rollback_only()
        return _show(form, errors, 400)
    set_password(user, new, now=now)
    record(session, AuditRecord(at=now, actor=user.name, action=CHANGED, object_type="user",
                                object_id=user.name, summary={"ip": ip, "via": "account"}))
    staff.revoke_browser_sessions(session, user, now=now)
    notices.tell_user(session, user, "password_changed", now=now, by=user.name)
    sessions.begin(user)  # a fresh session; every other session of this user has ended
    flash("Your password has been changed. Anywhere else you were signed in, you have been "
          "signed out.", "success")
    return redirect(url_for("home.index"))
