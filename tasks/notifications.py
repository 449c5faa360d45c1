"""Telling the reporter: acknowledgement, updates, major developments and closure.

Messages follow the reporter's safety preferences (tasks/notify). When no written channel is
both safe and known, the case officer gets a "phone the reporter" task instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases.operations import record_contact, reporter_of
from cases.outbox import OutboxMessage
from cases.people import User
from cases.records import Case, ContactKind
from engine.handlers import ServiceContext

from .common import case_of, setting
from .notify.service import notify_reporter
from .registry import handlers

PHONE_PROCESS = "asb_phone_call"
_CONTACT_METHOD = {"email": "email", "sms": "sms", "letter": "letter"}


def _officer(ctx: ServiceContext, case: Case) -> dict[str, str]:
    user = ctx.session.scalar(select(User).where(User.name == case.case_officer)
                              ) if case.case_officer else None
    council = setting(ctx, "council_details")
    if user is None:
        return {"name": "The anti-social behaviour team", "phone": council["phone"],
                "email": council["email"]}
    return {"name": user.display_name or user.name, "phone": user.phone or council["phone"],
            "email": user.email or council["email"]}


def letter_context(ctx: ServiceContext, case: Case) -> dict[str, Any]:
    """What every letter to the reporter may say: council, officer, case facts, rights."""
    person, _party = reporter_of(ctx.session, case)
    return {
        "council": setting(ctx, "council_details"),
        "officer": _officer(ctx, case),
        "recipient_name": person.name,
        "priority": case.priority,
        "first_contact_due": case.first_contact_due_at,
        "next_update_due": case.next_update_due_at,
        "case_review_threshold": setting(ctx, "case_review_threshold"),
        "reopen_days": setting(ctx, "reopen_window_days"),
    }


def tell_reporter(ctx: ServiceContext, case: Case, template: str,
                  extra: dict[str, Any] | None = None) -> OutboxMessage | None:
    """Queue ``template`` to the reporter by a safe channel, or ask the officer to phone."""
    person, party = reporter_of(ctx.session, case)
    prefs = party.contact_preferences or {}
    contacts = {k: v for k, v in (("email", person.email), ("sms", person.phone),
                                  ("letter", person.address)) if v}

    def phone_instead(reason: str) -> None:
        ctx.start_process(PHONE_PROCESS, {"case_officer": case.case_officer,
                                          "reason": reason, "template": template,
                                          "case_reference": case.reference})

    message = notify_reporter(
        ctx.session, case_reference=case.reference, template=template,
        context={**letter_context(ctx, case), **(extra or {})}, prefs=prefs,
        contacts=contacts, now=ctx.now, officer_phone_task=phone_instead)
    if message is not None:
        kind = {"acknowledgement": ContactKind.ACKNOWLEDGEMENT,
                "closure": ContactKind.CLOSURE}.get(template, ContactKind.UPDATE)
        record_contact(ctx.session, case, at=ctx.now, by="system",
                       method=_CONTACT_METHOD[str(message.channel)], kind=kind,
                       summary=f"{template.replace('_', ' ')} sent by {message.channel}")
    return message


@handlers.register("notify.acknowledge")
def acknowledge(ctx: ServiceContext) -> dict[str, Any]:
    """Acknowledge the report: reference, named officer, next steps, evidence and rights."""
    message = tell_reporter(ctx, case_of(ctx), "acknowledgement")
    return {"channel": str(message.channel) if message else "phone"}


@handlers.register("notify.major_development")
def major_development(ctx: ServiceContext) -> dict[str, Any]:
    """Tell the reporter at once about a major development sent to the case."""
    payload = ctx.data.pop("major_development", None) or {}
    development = str(payload.get("summary") or payload.get("description") or "").strip()
    extra = {"development": development or "There has been a development in your case.",
             "next_steps": str(payload.get("next_steps") or "")}
    message = tell_reporter(ctx, case_of(ctx), "major_development", extra)
    return {"channel": str(message.channel) if message else "phone"}


@handlers.register("notify.closure")
def closure_notice(ctx: ServiceContext) -> dict[str, Any]:
    """The closure notice: the reason, a satisfaction question, Case Review and complaints."""
    case = case_of(ctx)
    from .notify.letters import CLOSURE_REASONS

    extra = {"closure_reason": str(case.closure_reason), "closure_reasons": CLOSURE_REASONS}
    message = tell_reporter(ctx, case, "closure", extra)
    return {"channel": str(message.channel) if message else "phone"}
