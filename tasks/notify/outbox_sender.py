"""The outbox worker's step: deliver the messages that are due, record each outcome.

Run inside one unit of work (the job wrapper commits). Rows are claimed with
``FOR UPDATE SKIP LOCKED`` so that workers running side by side never send the same message.
Delivery is at least once: a crash after the provider accepted a message but before the
commit sends it again on the next run. Logs name messages by id, channel and template only,
never by address or content.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from cases.outbox import MessageChannel, OutboxMessage, due_messages, mark_failed, mark_sent

from .channels import Channel, DeliveryFailed
from .letters import to_pdf

log = logging.getLogger(__name__)


def letter_pdf(message: OutboxMessage) -> bytes:
    """The printable PDF of a letter, rendered from its HTML the first time it is needed."""
    if message.pdf is None:
        if not message.body_html:
            raise DeliveryFailed("the letter has neither a PDF nor HTML", retryable=False)
        message.pdf = to_pdf(message.body_html)
    return message.pdf


def _deliver(message: OutboxMessage, channels: Mapping[str, Channel]) -> str:
    if message.channel == MessageChannel.LETTER:
        letter_pdf(message)
    channel = channels.get(str(message.channel))
    if channel is None:
        # Configuration can be fixed without touching the message: worth retrying.
        raise DeliveryFailed(f"no channel configured for {message.channel}", retryable=True)
    return channel.send(message)


def send_due(
    session: Session, channels: Mapping[str, Channel], now: datetime, limit: int = 50
) -> int:
    """Deliver up to ``limit`` due messages and return how many the providers accepted."""
    sent = 0
    for message in session.scalars(due_messages(now, limit)).all():
        try:
            provider_id = _deliver(message, channels)
        except DeliveryFailed as exc:
            mark_failed(message, str(exc), now, retryable=exc.retryable)
            log.warning("outbox message %s (%s, %s) failed, attempt %s, %s: %s",
                        message.id, message.channel, message.template, message.attempts,
                        message.status, message.last_error)
        except Exception as exc:  # a channel bug must not stall every message behind it
            mark_failed(message, f"unexpected {type(exc).__name__}", now, retryable=True)
            log.error("outbox message %s (%s, %s): unexpected %s, attempt %s, %s",
                      message.id, message.channel, message.template, type(exc).__name__,
                      message.attempts, message.status)
        else:
            mark_sent(message, provider_id, now)
            sent += 1
            log.info("outbox message %s (%s, %s) sent", message.id, message.channel,
                     message.template)
    session.flush()
    return sent
