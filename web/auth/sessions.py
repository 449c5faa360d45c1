"""Server-side records of signed-in sessions: checked on every request, listed to their
owner at ``/account/sessions`` (ASVS 3.3.4), ended by signing out, by "sign out of all other
sessions", by an administrator, or by a password change, disable or two-factor reset.

The session cookie carries a random id (``sid``); the database keeps its SHA-256 only.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from werkzeug.wrappers import Response

from cases import staff
from cases.audit import AuditRecord, record
from cases.people import User
from engine import clock

from .. import identity
from ..extensions import db
from .forms import SignOutOthersForm
from .guards import login_required

SIGNED_OUT_OTHERS = "auth.signed_out_other_sessions"
REVOKED_BY_ADMIN = "user.sessions_revoked"
_BROWSERS = (("Edg", "Edge"), ("OPR", "Opera"), ("Firefox", "Firefox"), ("Chrome", "Chrome"),
             ("Safari", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
            ("Windows", "Windows"), ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def describe_browser(user_agent: str | None) -> str:
    """A coarse description such as "Firefox on Windows" (never the full User-Agent)."""
    text = user_agent or ""
    browser = next((name for token, name in _BROWSERS if re.search(rf"\b{token}/", text)),
                   "Unknown browser")
    system = next((name for token, name in _SYSTEMS if token in text), "")
    return f"{browser} on {system}" if system else browser


def coarse_network(address: str | None) -> str:
    """The first two parts of an address ("192.168.x.x", "2001:db8:…"), or "" if unknown."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv4Address):
        first, second = str(ip).split(".")[:2]
        return f"{first}.{second}.x.x"
    return ":".join(ip.exploded.split(":")[:2]) + ":…"


def begin(user: User) -> None:
    """Start a fresh signed-in session for ``user`` and record it."""
    identity.sign_in(user)
    row = staff.start_browser_session(
        db(), user, str(cookie["sid"]), now=clock.now(),
        browser=describe_browser(request.headers.get("User-Agent")),
        network=coarse_network(request.remote_addr))
    g.browser_session_id = row.id


def end() -> None:
    """Sign out, ending this session's record too."""
    row_id, user = g.get("browser_session_id"), g.get("user")
    if row_id is not None and user is not None:
        staff.revoke_browser_sessions(db(), user, now=clock.now(), only=row_id)
    identity.sign_out()


def _refuse() -> None:
    cookie.clear()
    g.user, g.auth, g.session_expired = None, None, True


def check_session_record() -> None:
    """After ``identity.load_caller``: a browser session must have a record not revoked."""
    if g.get("auth") != "session":
        return
    user, sid, now = g.user, cookie.get("sid"), clock.now()
    if not isinstance(sid, str) or not sid:
        _refuse()
        return
    row = staff.find_browser_session(db(), sid)
    if row is None:
        # Signed in before these records existed: adopt it, unless the user has since
        # signed out their other sessions (which it would have been among).
        started = datetime.fromisoformat(str(cookie["started"]))
        if staff.revoked_since(db(), user, started):
            _refuse()
            return
        row = staff.start_browser_session(
            db(), user, sid, now=started,
            browser=describe_browser(request.headers.get("User-Agent")),
            network=coarse_network(request.remote_addr))
    if row.revoked_at is not None or row.user_id != user.id:
        _refuse()
        return
    staff.touch_browser_session(row, now)
    g.browser_session_id = row.id


def open_sessions(user: User) -> list[staff.BrowserSession]:
    """``user``'s sessions still open now, newest first."""
    return staff.open_browser_sessions(
        db(), user, now=clock.now(), idle=current_app.config["ASB_IDLE_TIMEOUT"],
        longest=current_app.config["ASB_ABSOLUTE_TIMEOUT"])


bp = Blueprint("sessions", __name__, url_prefix="/account")


@bp.get("/sessions")
@login_required
def sessions() -> str:
    """The caller's own open sessions, the current one marked."""
    return render_template("auth/sessions.html", rows=open_sessions(g.user),
                           current=g.get("browser_session_id"), form=SignOutOthersForm())


@bp.post("/sessions/sign-out-others")
@login_required
def sign_out_others() -> Response | tuple[str, int]:
    """End every session of the caller but this one."""
    form = SignOutOthersForm()
    if not form.validate_on_submit():
        return render_template("auth/sessions.html", rows=open_sessions(g.user),
                               current=g.get("browser_session_id"), form=form), 400
    user, now = g.user, clock.now()
    ended = staff.revoke_browser_sessions(db(), user, now=now,
                                          keep=g.get("browser_session_id"))
    record(db(), AuditRecord(at=now, actor=user.name, action=SIGNED_OUT_OTHERS,
                             object_type="user", object_id=user.name,
                             summary={"ended": ended, "ip": request.remote_addr}))
    flash(f"You signed out of {ended} other session{'' if ended == 1 else 's'}.", "success")
    return redirect(url_for("sessions.sessions"))


def init_app(app: Flask) -> None:
    """Check the session record right after the caller is identified; add the pages."""
    app.register_blueprint(bp)
    hooks = app.before_request_funcs.setdefault(None, [])
    at = hooks.index(identity.load_caller) + 1 if identity.load_caller in hooks else len(hooks)
    hooks.insert(at, check_session_record)
