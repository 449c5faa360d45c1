"""Telling the reporter: pick the channel they asked for, render, and queue it for a safe time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cases.outbox import MessageChannel, OutboxMessage, enqueue

from .letters import render, to_pdf
from .preferences import TIMED_CHANNELS, choose_channel, next_safe_time

PhoneTask = Callable[[str], None]


class NoWrittenChannel(Exception):
    """No written channel is safe and known for the reporter, and nobody was told to phone."""


def phone_task_reason(template: str, prefs: Mapping[str, Any] | None) -> str:
    """Say why the officer must phone instead of writing; no contact details in it."""
    reason = (f"Phone the reporter instead of sending the {template.replace('_', ' ')}: "
              "no written channel is both safe and known for them.")
    if prefs and prefs.get("no_voicemail"):
        reason += " Do not leave a voicemail or message."
    if prefs and prefs.get("safe_times"):
        reason += " Call only at the safe times they gave."
    return reason


def notify_reporter(
    session: Session,
    *,
    case_reference: str,
    template: str,
    context: Mapping[str, Any],
    prefs: Mapping[str, Any] | None,
    contacts: Mapping[str, str],
    now: datetime,
    officer_phone_task: PhoneTask | None = None,
    attach_pdf: bool = False,
) -> OutboxMessage | None:
    """Queue ``template`` to the reporter by their preferred safe channel, or ask for a call.

    A letter keeps its HTML and is printed to PDF when sent; an e-mail its HTML and text (and
    the PDF with ``attach_pdf``);
    a text message the short version. E-mail and texts wait for the next safe time. When no
    written channel is safe and known, ``officer_phone_task(reason)`` is called and nothing
    is queued; without that callback ``NoWrittenChannel`` is raised.
    """
    choice = choose_channel(prefs, contacts)
    if choice is None:
        reason = phone_task_reason(template, prefs)
        if officer_phone_task is None:
            raise NoWrittenChannel(reason)
        officer_phone_task(reason)
        return None
    channel, address = choice
    confidential = bool(prefs and prefs.get("confidential"))
    values: dict[str, Any] = {"date": now, **context, "case_reference": case_reference,
                              "channel": channel, "confidential": confidential}
    if channel == MessageChannel.LETTER:
        values["recipient_address"] = address
    rendered = render(template, values)
    subject = rendered.subject
    if confidential:
        # A subject line shows on lock screens and shared inboxes: keep it neutral.
        council = context.get("council") or {}
        subject = f"A message from {council.get('name', 'the council')} ({case_reference})"
    # A letter is printed to PDF when it is sent (outbox_sender), not while the officer or
    # the API waits; an e-mail that carries its PDF needs it now.
    pdf = to_pdf(rendered.html) if attach_pdf and channel == MessageChannel.EMAIL else None
    not_before = next_safe_time(prefs, now) if channel in TIMED_CHANNELS else None
    return enqueue(
        session,
        case_reference=case_reference,
        recipient_role="reporter",
        channel=channel,
        to_address=address,
        subject=subject,
        body_text=rendered.sms if channel == MessageChannel.SMS else rendered.text,
        body_html=rendered.html if channel != MessageChannel.SMS else None,
        pdf=pdf,
        template=template,
        created_at=now,
        not_before=not_before,
    )
