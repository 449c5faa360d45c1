"""The partner agencies' door (issue 8): referrals, conference actions, one-time links.

URL map (blueprint ``partner``, prefix ``/partner``):
    GET  /partner                            the agency's referrals and conference actions
    GET  /partner/referrals/<id>             one referral: what was shared, the answers so far
    POST /partner/referrals/<id>             accept, decline, record an action or the outcome,
                                             or message the case officer (field ``do``)
    POST /partner/actions/<id>               a conference action: progress, or done
    GET  /partner/link/<token>               spend a one-time link, then go to its referral

Partner users see only their agency's referrals and actions; a link holder only the link's
referral, and may only accept, decline and record the outcome. Anything else is 404, audited.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cases.audit import AuditRecord, record
from cases.partner_access import (
    LinkRefused,
    action_for_agency,
    actions_of_agency,
    link_locked,
    note_link_refused,
    redeem_link,
    referral_for_agency,
    referrals_of_agency,
)
from cases.records import CaseDataInvalid
from cases.referrals import Referral
from engine import clock
from tasks import partner_portal
from web.extensions import db, rollback_only

from .access import Caller, audit_partner_refusals, caller, link_scope, refuse, start_link_session

bp = Blueprint("partner", __name__, url_prefix="/partner")
bp.after_app_request(audit_partner_refusals)

LINK_ACTIONS = ("accept", "decline", "outcome")
DONE_TEXT = {"accept": "You accepted the referral. The case officer has been told.",
             "decline": "You declined the referral. The case officer has been told.",
             "action": "Your action is recorded. The case officer has been told.",
             "outcome": "The outcome is recorded and the referral is done. Thank you.",
             "message": "Your message was sent to the case officer."}


def _audit(who: Caller, action: str, object_type: str, object_id: str,
           case_reference: str | None = None, **summary: Any) -> None:
    record(db(), AuditRecord(at=clock.now(), actor=who.actor, action=action,
                             object_type=object_type, object_id=object_id,
                             case_reference=case_reference,
                             summary={"via": "link" if who.by_link else "web",
                                      "agency": who.agency.code, **summary}))


@bp.get("")
def index() -> str | Response:
    """The agency's referrals (newest first) and the conference actions it owns."""
    who = caller()
    if isinstance(who, Response):
        return who
    if who.by_link:
        return redirect(url_for("partner.referral", referral_id=who.referral_id))
    session, now = db(), clock.now()
    referrals = list(session.scalars(referrals_of_agency(who.agency)))
    actions = actions_of_agency(session, who.agency)
    _audit(who, "partner.referrals_viewed", "partner_agency", str(who.agency.id),
           shown=len(referrals), actions=len(actions))
    return _index_page(who, referrals, actions, now, {})


def _index_page(who: Caller, referrals: list[Referral], actions: list[Any], now: Any,
                errors: dict[str, str]) -> str:
    cases = partner_portal.case_references(db(), [r.case_id for r in referrals])
    return render_template("partner/index.html", agency=who.agency, referrals=referrals,
                           actions=actions, now=now, status_text=partner_portal.STATUS_TEXT,
                           cases=cases, errors=errors)


def _referral_of(who: Caller, referral_id: int) -> Referral:
    """The referral if this caller may see it; else audit the attempt and answer 404."""
    found = referral_for_agency(db(), who.agency, referral_id)
    if found is None or (who.by_link and who.referral_id != referral_id):
        other = db().get(Referral, referral_id)
        reference = partner_portal.case_reference_of(db(), other) if other else None
        refuse(who, "referral", str(referral_id), reference)
    assert found is not None
    return found


def _referral_page(who: Caller, referral: Referral, errors: dict[str, str] | None = None,
                   values: dict[str, str] | None = None) -> str:
    page = partner_portal.referral_page(db(), referral, clock.now())
    return render_template("partner/referral.html", **page, who=who, errors=errors or {},
                           values=values or {}, link_actions=LINK_ACTIONS)


@bp.get("/referrals/<int:referral_id>")
def referral(referral_id: int) -> str | Response:
    """One referral as the officer shared it, with the partner's answers and actions so far."""
    who = caller()
    if isinstance(who, Response):
        return who
    found = _referral_of(who, referral_id)
    page = _referral_page(who, found)
    _audit(who, "partner.referral_viewed", "referral", str(found.id),
           partner_portal.case_reference_of(db(), found), disclosed=list(found.disclosed or []))
    return page


@bp.post("/referrals/<int:referral_id>")
def answer(referral_id: int) -> tuple[str, int] | Response:
    """Accept, decline, record an action or the outcome, or message the officer."""
    who = caller()
    if isinstance(who, Response):
        return who
    found = _referral_of(who, referral_id)
    do = request.form.get("do", "")
    form = {key: request.form.get(key, "") for key in ("reason", "action", "outcome", "message")}
    session, now = db(), clock.now()
    kw = {"by": who.actor, "now": now}
    try:
        if who.by_link and do not in LINK_ACTIONS:
            raise CaseDataInvalid("do", "This link can only accept, decline or record the "
                                        "outcome: sign in to do more")
        if do == "accept":
            partner_portal.accept(session, found, by_link=who.by_link, **kw)
        elif do == "decline":
            partner_portal.decline(session, found, form["reason"], **kw)
        elif do == "action":
            partner_portal.record_action(session, found, form["action"], **kw)
        elif do == "outcome":
            partner_portal.record_outcome(session, found, form["outcome"], **kw)
        elif do == "message":
            partner_portal.message_officer(session, found, form["message"], **kw)
        else:
            raise CaseDataInvalid("do", "Choose what to do")
    except CaseDataInvalid as exc:
        rollback_only()
        errors = {_field(key, do): text for key, text in exc.errors.items()}
        return _referral_page(who, found, errors, form), 400
    flash(DONE_TEXT[do], "success")
    return redirect(url_for("partner.referral", referral_id=found.id))


def _field(key: str, do: str) -> str:
    """The form field an error belongs to (the record's names for the page's fields)."""
    if key in ("reason", "action", "outcome", "message"):
        return key
    return {"decline": "reason", "action": "action", "outcome": "outcome",
            "message": "message"}.get(do, "do")


@bp.post("/actions/<int:action_id>")
def action(action_id: int) -> tuple[str, int] | Response:
    """Record progress on a conference action the agency owns, or mark it done."""
    who = caller()
    if isinstance(who, Response):
        return who
    if who.by_link:
        refuse(who, "conference_action", str(action_id))
    found = action_for_agency(db(), who.agency, action_id)
    if found is None:
        refuse(who, "conference_action", str(action_id))
    assert found is not None
    done = request.form.get("do") == "done"
    try:
        partner_portal.update_action(db(), found, who.agency.name, done=done,
                                     text=request.form.get("progress", ""), by=who.actor,
                                     now=clock.now())
    except CaseDataInvalid as exc:
        rollback_only()
        session = db()
        return _index_page(who, list(session.scalars(referrals_of_agency(who.agency))),
                           actions_of_agency(session, who.agency), clock.now(),
                           {f"progress-{action_id}": next(iter(exc.errors.values()))}), 400
    flash(f"Action {found.number} {'is done' if done else 'progress is recorded'}. "
          "The case officer has been told.", "success")
    return redirect(url_for("partner.index"))


@bp.get("/link/<token>")
def link(token: str) -> tuple[str, int] | Response:
    """Spend a one-time link: a session for its referral only, then a URL without the token."""
    session, now = db(), clock.now()
    ip = request.remote_addr
    if link_locked(session, ip, at=now):
        return render_template("partner/link_refused.html", locked=True), 429
    try:
        spent = redeem_link(session, token[:100], at=now)
    except LinkRefused as exc:
        scope = link_scope()
        if exc.link is not None and scope is not None and scope["link"] == exc.link.id:
            return redirect(url_for("partner.referral", referral_id=exc.link.referral_id))
        note_link_refused(session, exc.reason, ip, at=now, link=exc.link)
        g.partner_refusal_audited = True
        return render_template("partner/link_refused.html", locked=False), 404
    found = session.get(Referral, spent.referral_id)
    assert found is not None
    start_link_session(found, spent.id, now)
    return redirect(url_for("partner.referral", referral_id=found.id))
