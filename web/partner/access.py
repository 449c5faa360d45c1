"""Who is at the partner door: a signed-in partner of an agency, or a one-time link's holder.

A partner user reaches the referrals sent to their agency and the conference actions it owns;
the holder of a spent one-time link reaches that one referral for a short while. Everyone
else gets what the page guards give (sign-in, 403), and a partner's refused attempt anywhere
in the product is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from cases.partner_access import agency_of, note_refused
from cases.people import PartnerAgency, Role
from cases.referrals import Referral
from engine import clock
from web.extensions import db, unit

LINK_KEY = "partner_link"
LINK_SESSION_FOR = timedelta(hours=2)


@dataclass(frozen=True)
class Caller:
    """The partner at the door: their agency, the name for the audit, and the link's scope."""

    agency: PartnerAgency
    actor: str
    referral_id: int | None = None   # a link holder reaches this referral only

    @property
    def by_link(self) -> bool:
        """Tell whether the caller came through a one-time link."""
        return self.referral_id is not None


def start_link_session(referral: Referral, link_id: int, now: datetime) -> None:
    """A fresh session that reaches ``referral`` only (nothing of a previous one survives)."""
    session.clear()
    session[LINK_KEY] = {"referral": referral.id, "link": link_id, "agency": referral.agency_id,
                         "until": (now + LINK_SESSION_FOR).isoformat()}


def link_scope() -> dict[str, int] | None:
    """The link session's referral, link and agency ids, while it lasts."""
    held = session.get(LINK_KEY)
    if not isinstance(held, dict):
        return None
    try:
        until = datetime.fromisoformat(str(held["until"]))
        scope = {"referral": int(held["referral"]), "link": int(held["link"]),
                 "agency": int(held["agency"])}
    except (KeyError, TypeError, ValueError):
        session.pop(LINK_KEY, None)
        return None
    if until <= clock.now():
        session.pop(LINK_KEY, None)
        return None
    return scope


def caller() -> Caller | Response:
    """The partner calling, or the answer for anyone else (sign-in, or 403)."""
    user = g.get("user")
    if user is not None:
        agency = agency_of(user)
        if agency is None:
            abort(403)
        return Caller(agency, user.name)
    scope = link_scope()
    if scope is not None:
        agency = db().get(PartnerAgency, scope["agency"])
        if agency is not None:
            return Caller(agency, f"link:{agency.code}", scope["referral"])
    here = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.sign_in", next=here))


def refuse(who: Caller, what: str, object_id: str, case_reference: str | None = None) -> None:
    """Audit a partner's attempt at something not theirs, then answer 404."""
    note_refused(db(), at=clock.now(), by=who.actor, what=what, object_id=object_id,
                 case_reference=case_reference, agency=who.agency.code,
                 route=request.url_rule.rule if request.url_rule else None, by_link=who.by_link)
    g.partner_refusal_audited = True
    abort(404)


def _audit_partner_refusals(response: Response) -> Response:
    user = g.get("user")
    if (response.status_code in (403, 404) and user is not None and user.role is Role.PARTNER
            and not g.get("partner_refusal_audited") and request.endpoint != "static"
            and not request.path.startswith("/api/")):
        args = request.view_args or {}
        reference = args.get("reference")
        facts = {"at": clock.now(), "by": user.name, "what": "page", "object_id": None,
                 "case_reference": reference if isinstance(reference, str) else None,
                 "route": request.url_rule.rule if request.url_rule else None,
                 "method": request.method, "status": response.status_code,
                 "agency": user.agency.code if user.agency else None}
        if g.get("rollback_only"):
            # The request's own work is undone: the audit row goes in a unit of its own,
            # once the request's session holds no lock.
            db().rollback()
            with unit() as session:
                note_refused(session, **facts)
        else:
            note_refused(db(), **facts)
    return response


def audit_partner_refusals(response: Response) -> Response:
    """Audit any 403 or 404 a partner user meets on a page (never the URL; the API's refusals
    change nothing, as its contract says)."""
    return _audit_partner_refusals(response)
