"""The reporter's session: opened by a code or a link, checked on every request, throttled.

The reporter's session lives under its own key (``reporter``) in the signed session cookie,
apart from the staff sign-in: it holds the access id and the case reference, never the code
or the link. Each request re-reads the access, so a revoked or expired one stops at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import current_app, g, render_template, request, session
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.records import Case
from cases.reporter_access import (
    AccessRefused,
    ReporterAccess,
    clear_failures,
    failures,
    ip_key,
    live_access,
    record_failure,
)
from engine import clock
from tasks.reporter_portal import audit
from web.extensions import db

SESSION_KEY = "reporter"
DEFAULTS = {"ASB_REPORTER_ACCESS_DAYS": 180, "ASB_REPORTER_MAX_FAILURES": 5,
            "ASB_REPORTER_MAX_IP_FAILURES": 20, "ASB_REPORTER_LOCKOUT_MINUTES": 15,
            "ASB_REPORTER_FOLLOW_RATE": "20 per minute", "ASB_REPORT_RATE": "10 per minute"}


def setting(name: str) -> Any:
    """One of the reporters' door settings (``DEFAULTS``, overridden by the app's config)."""
    return current_app.config.get(name, DEFAULTS[name])


def client_ip() -> str | None:
    """The caller's address as the limiter sees it (behind a proxy, configure ProxyFix)."""
    return request.remote_addr


def locked_out(db_session: Session, reference: str | None, at: datetime) -> bool:
    """Tell whether this IP address, or this reference, has failed too often lately."""
    since = at - timedelta(minutes=int(setting("ASB_REPORTER_LOCKOUT_MINUTES")))
    if failures(db_session, "ip", ip_key(client_ip()), since) >= int(
            setting("ASB_REPORTER_MAX_IP_FAILURES")):
        return True
    return bool(reference) and failures(db_session, "reference", str(reference).upper(),
                                        since) >= int(setting("ASB_REPORTER_MAX_FAILURES"))


def refuse(reason: str, *, reference: str | None, case: Case | None = None) -> None:
    """Count and audit one failed attempt, on the case named if there is one (the request
    still commits, so the count stays)."""
    now = clock.now()
    record_failure(db(), ip=client_ip(), reference=reference, at=now)
    if case is None and reference:
        case = db().scalars(select(Case).where(Case.reference == reference.upper())).first()
    audit(db(), "reporter.access_refused", case, at=now, reason=reason,
          reference_given=bool(reference))


def open_session(access: ReporterAccess, case: Case, how: str) -> None:
    """Start a fresh reporter session for ``case`` (a staff sign-in in this browser ends)."""
    now = clock.now()
    session.clear()
    session[SESSION_KEY] = {"access": access.id, "case": case.reference,
                            "started": now.isoformat(), "seen": now.isoformat()}
    access.last_used_at = now
    clear_failures(db(), case.reference)
    audit(db(), "reporter.signed_in", case, at=now, how=how, access_id=access.id)


def _session_case() -> tuple[ReporterAccess, Case] | None:
    held = session.get(SESSION_KEY)
    if not isinstance(held, dict):
        return None
    now = clock.now()
    try:
        started = datetime.fromisoformat(held["started"])
        seen = datetime.fromisoformat(held["seen"])
        access, case = live_access(db(), int(held["access"]), str(held["case"]), now)
    except (KeyError, TypeError, ValueError, AccessRefused):
        session.pop(SESSION_KEY, None)
        return None
    if (now - seen > current_app.config["ASB_IDLE_TIMEOUT"]
            or now - started > current_app.config["ASB_ABSOLUTE_TIMEOUT"]):
        session.pop(SESSION_KEY, None)
        return None
    session[SESSION_KEY] = {**held, "seen": now.isoformat()}
    return access, case


def ended_page() -> tuple[str, int]:
    """What a caller without a live reporter session gets: the follow form, 401."""
    from .forms import FollowForm

    return render_template("reporter/follow.html", form=FollowForm(), errors={},
                           summary=[], ended=True), 401


def reporter_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``view`` only for a live reporter session; ``g.reporter_case`` is their case."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        found = _session_case()
        if found is None:
            return ended_page()
        g.reporter_access, g.reporter_case = found
        return view(*args, **kwargs)

    return guarded


def reporter_case() -> Case:
    """The case of this reporter session (the guard has run)."""
    found: Case = g.reporter_case
    return found
