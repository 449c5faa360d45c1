"""The safeguarding referral (promises 4 and 5): a child or vulnerable adult at risk.

``asb_safeguarding`` runs as a stage an officer starts and as the process ``asb_case`` calls
whenever the safeguarding flag is set; either way the referral is recorded on the case as a
``safeguarding`` referral with its disclosure. A called process hands its data back to the
caller, so the form's answers are taken out of the workflow data once the record has them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cases.records import CaseDataInvalid
from cases.referrals import (
    SAFEGUARDING_KINDS,
    AtRisk,
    ReferralKind,
    check_agencies,
    disclosed_kinds,
    make_referral,
)
from engine.handlers import ServiceContext

from .common import case_of, moment, pop_text, refuse_as_form
from .registry import handlers
from .stages import register_stage

FORM_FIELDS = ("at_risk", "agency", "reference_number", "referred_at", "disclose",
               "legal_basis", "summary")
CLOCK_SLACK = timedelta(minutes=5)   # a time typed "now" on a slow clock is not "the future"

register_stage("asb_safeguarding", "Make a safeguarding referral",
               "Record a referral to children's or adults' safeguarding services for someone "
               "at risk; it is due by the next working day.", "support")


def _when(ctx: ServiceContext, received: Any) -> Any:
    try:
        when = moment(ctx.data.get("referred_at"))
    except (TypeError, ValueError):
        raise CaseDataInvalid("referred_at", "must be a date and time") from None
    if when > ctx.now + CLOCK_SLACK:
        raise CaseDataInvalid("referred_at", "must not be in the future")
    if when < received:
        raise CaseDataInvalid("referred_at", "must not be before the report was received")
    return when


@handlers.register("safeguarding.record_referral")
def record_safeguarding_referral(ctx: ServiceContext) -> dict[str, Any]:
    """Record the safeguarding referral the officer made, its disclosure and the flag."""
    case = case_of(ctx)
    errors: dict[str, str] = {}
    try:
        at_risk = AtRisk(ctx.data.get("at_risk"))
    except ValueError:
        errors["at_risk"] = "choose child or adult"
        at_risk = None
    checks: list[tuple[str, Any]] = [
        ("agency", lambda: check_agencies(
            ctx.session, [ctx.data.get("agency")], ctx.now, field="agency", need_email=False,
            kind=SAFEGUARDING_KINDS[at_risk] if at_risk else None)),
        ("disclose", lambda: disclosed_kinds(ctx.data.get("disclose"))),
        ("referred_at", lambda: _when(ctx, case.received_at)),
    ]
    found: dict[str, Any] = {}
    for name, check in checks:
        try:
            found[name] = check()
        except CaseDataInvalid as exc:
            errors.update(exc.errors)
    with refuse_as_form():
        if errors:
            raise CaseDataInvalid(errors)
        referral = make_referral(
            ctx.session, case, found["agency"][0], at=found["referred_at"], by=ctx.actor,
            disclosed=found["disclose"], legal_basis=ctx.data.get("legal_basis"),
            reason=ctx.data.get("summary"), kind=ReferralKind.SAFEGUARDING, at_risk=at_risk,
            external_reference=ctx.data.get("reference_number"))
    case.safeguarding = True
    pop_text(ctx, *FORM_FIELDS)
    ctx.data["safeguarding_referral_id"] = referral.id
    return {"referral": referral.id, "agency": referral.agency_code}
