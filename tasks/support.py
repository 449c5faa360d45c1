"""Referrals to partner agencies and their follow-up (promises 4, 5 and 7).

``asb_referrals`` records one referral per chosen agency (with the disclosure it makes),
e-mails each agency only what the officer chose to share, and starts one
``asb_referral_tracking`` per referral. Tracking reads the partner's answer from the case
record at each chaser interval (the partner pages write it with
``cases.referrals.respond_to_referral``), so no message needs to find the right instance.
Safeguarding and case conferences live in ``support_safeguarding`` and
``support_conference``; importing this module registers all three stages.
"""

from __future__ import annotations

from typing import Any

from cases.enums import CaseStatus
from cases.referrals import (
    Referral,
    ReferralStatus,
    check_agencies,
    disclosed_kinds,
    make_referral,
    record_next_step,
    record_referral_chaser,
    referral_by_id,
    respond_to_referral,
    withdraw_referral,
)
from engine.handlers import ServiceContext

from . import support_conference, support_safeguarding  # noqa: F401 - their stages
from .common import case_of, iso, pop_text, refuse_as_form, working_days_after
from .notifications import tell_reporter
from .partner_portal import answer_facts
from .registry import handlers
from .stages import register_stage
from .support_mail import (
    LEGAL_BASIS_TEXT,
    disclosed_sections,
    send_to_partner,
    support_setting,
)

TRACKING_PROCESS = "asb_referral_tracking"

register_stage("asb_referrals", "Refer to partner agencies",
               "Refer the case to police, victim support, youth services and other partners, "
               "sharing only what they need, and follow up their answers.", "support")


def _referral(ctx: ServiceContext) -> Referral:
    with refuse_as_form():
        return referral_by_id(ctx.session, ctx.data.get("referral_id"), case_of(ctx))


@handlers.register("referrals.make_referrals")
def make_referrals(ctx: ServiceContext) -> dict[str, Any]:
    """One referral and disclosure per agency, its e-mail queued and its tracking started."""
    case = case_of(ctx)
    with refuse_as_form():
        agencies = check_agencies(ctx.session, ctx.data.get("agencies"), ctx.now)
        kinds = disclosed_kinds(ctx.data.get("disclose"))
    sections = disclosed_sections(ctx, case, kinds)
    interval = support_setting(ctx, "referral_chaser_working_days")
    answer_by = working_days_after(ctx, ctx.now, interval)
    ids = []
    for agency in agencies:
        with refuse_as_form():
            referral = make_referral(ctx.session, case, agency, at=ctx.now, by=ctx.actor,
                                     disclosed=kinds, legal_basis=ctx.data.get("legal_basis"),
                                     reason=ctx.data.get("reason"))
        send_to_partner(ctx, case, "partner_referral", to_address=agency["email"],
                        recipient_name=agency["name"], required=("reason", "sections"),
                        facts={"referral_number": f"R{referral.id}", "reason": referral.reason,
                               "legal_basis_text": LEGAL_BASIS_TEXT[referral.legal_basis],
                               "sections": sections, "answer_by": answer_by,
                               **answer_facts(ctx, referral)})
        ctx.start_process(TRACKING_PROCESS, {
            "case_reference": case.reference, "case_officer": case.case_officer,
            "team_leader": ctx.data.get("team_leader"), "referral_id": referral.id,
            "agency": referral.agency_code, "next_chase_at": iso(answer_by)})
        ids.append(referral.id)
    ctx.data["referral_ids"] = ids
    pop_text(ctx, "reason")
    return {"referrals": ids}


@handlers.register("referrals.tell_reporter")
def tell_reporter_of_referrals(ctx: ServiceContext) -> dict[str, Any]:
    """Tell the reporter which agencies were asked to help: never what they were told."""
    case = case_of(ctx)
    names = [referral_by_id(ctx.session, rid, case).agency_name
             for rid in ctx.data.get("referral_ids") or []]
    message = tell_reporter(ctx, case, "support_arranged", {"agencies": names})
    return {"channel": str(message.channel) if message else "phone"}


@handlers.register("referrals.check_answer")
def check_answer(ctx: ServiceContext) -> dict[str, Any]:
    """Read the partner's answer; decide between ending, a decline, a reminder or the officer."""
    case = case_of(ctx)
    referral = _referral(ctx)
    waiting = referral.status is ReferralStatus.SENT
    most = support_setting(ctx, "referral_max_chasers", referral.referred_at)
    if referral.status is ReferralStatus.DECLINED:
        ctx.data["referral_next"] = "declined"
    elif case.status is CaseStatus.CLOSED or not waiting:
        ctx.data["referral_next"] = "ended"
    elif referral.chasers_sent >= most:
        ctx.data["referral_next"] = "escalate"
    else:
        ctx.data["referral_next"] = "chase"
    ctx.data["chasers_sent"] = referral.chasers_sent
    return {"status": str(referral.status), "next": ctx.data["referral_next"]}


@handlers.register("referrals.send_chaser")
def send_chaser(ctx: ServiceContext) -> dict[str, Any]:
    """Remind the partner (no personal details in it) and wait another interval."""
    case = case_of(ctx)
    referral = _referral(ctx)
    interval = support_setting(ctx, "referral_chaser_working_days", referral.referred_at)
    answer_by = working_days_after(ctx, ctx.now, interval)
    send_to_partner(ctx, case, "partner_reminder", to_address=str(referral.agency_email),
                    recipient_name=referral.agency_name,
                    facts={"referral_number": f"R{referral.id}",
                           "referred_on": referral.referred_at,
                           "reminder_number": referral.chasers_sent + 1,
                           "answer_by": answer_by})
    record_referral_chaser(ctx.session, referral, ctx.now)
    ctx.data["next_chase_at"] = iso(answer_by)
    ctx.data["chasers_sent"] = referral.chasers_sent
    return {"chasers_sent": referral.chasers_sent}


@handlers.register("referrals.record_next_step")
def record_declined_next_step(ctx: ServiceContext) -> dict[str, Any]:
    """Record what the officer decided after the partner declined."""
    referral = _referral(ctx)
    with refuse_as_form():
        record_next_step(ctx.session, referral, ctx.data.get("next_step"), by=ctx.actor,
                         at=ctx.now, note=ctx.data.get("note"))
    pop_text(ctx, "note")
    return {"next_step": referral.next_step}


@handlers.register("referrals.record_no_answer")
def record_no_answer(ctx: ServiceContext) -> dict[str, Any]:
    """Record the outcome of the officer's follow-up with a partner that never answered."""
    referral = _referral(ctx)
    outcome, note = ctx.data.get("outcome"), ctx.data.get("note")
    ctx.data["referral_next"] = "ended"
    with refuse_as_form():
        if referral.status is not ReferralStatus.SENT:  # the partner answered meanwhile
            record_next_step(ctx.session, referral, "answered_meanwhile", by=ctx.actor,
                             at=ctx.now, note=note)
        elif outcome in ("accepted", "declined"):
            respond_to_referral(ctx.session, referral, outcome, by=ctx.actor, at=ctx.now,
                                note=note)
        elif outcome == "withdrawn":
            withdraw_referral(ctx.session, referral, by=ctx.actor, at=ctx.now, note=str(note))
        else:
            record_next_step(ctx.session, referral, "chase_again", by=ctx.actor, at=ctx.now,
                             note=note)
            ctx.data["referral_next"] = "chase"
    pop_text(ctx, "note")
    return {"status": str(referral.status), "next": ctx.data["referral_next"]}

