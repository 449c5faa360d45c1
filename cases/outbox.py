"""The outbox: e-mails, texts, letters and phone tasks waiting to leave, sent by a worker.

A message is written in the same transaction as the case change that causes it, so it is
sent if and only if that change is committed. The worker picks due rows with
``due_messages`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never send
the same row), hands each to a delivery channel, and records the outcome with
``mark_sent`` or ``mark_failed``. ``to_address`` and the bodies are personal data: nothing
here logs them, and ``last_error`` is scrubbed of anything that looks like an address.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta

from sqlalchemy import (
    Enum,
    Index,
    Integer,
    LargeBinary,
    Select,
    String,
    Text,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, Timestamp

BASE_BACKOFF = timedelta(minutes=1)
MAX_ATTEMPTS = 8
MAX_ERROR_LENGTH = 500

_EMAIL_LIKE = re.compile(r"[^\s@<>()\"',;:]+@[^\s@<>()\"',;:]+")
_NUMBER_LIKE = re.compile(r"\+?\d[\d ()-]{6,}\d")


class MessageChannel(enum.StrEnum):
    """How a message reaches its recipient."""

    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"
    PHONE_TASK = "phone_task"


class OutboxStatus(enum.StrEnum):
    """Where a message is in its life; ``held`` waits for the recipient's safe time."""

    PENDING = "pending"
    HELD = "held"
    SENT = "sent"
    FAILED = "failed"


class OutboxError(ValueError):
    """A message could not be queued or changed as asked."""


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_cls]


class OutboxMessage(Base):
    """One message to one recipient, with its delivery history in a few columns."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_reference: Mapped[str | None] = mapped_column(String(100), index=True)
    recipient_role: Mapped[str] = mapped_column(String(32))
    channel: Mapped[MessageChannel] = mapped_column(
        Enum(MessageChannel, native_enum=False, length=20, create_constraint=True,
             name="message_channel", values_callable=_values, validate_strings=True)
    )
    to_address: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Deferred: a page of messages should not drag every PDF out of the database.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    template: Mapped[str] = mapped_column(String(100))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=20, create_constraint=True,
             name="outbox_status", values_callable=_values, validate_strings=True),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(Timestamp)
    not_before: Mapped[datetime | None] = mapped_column(Timestamp)
    last_error: Mapped[str | None] = mapped_column(String(MAX_ERROR_LENGTH))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)

    def __repr__(self) -> str:
        # No address, subject or body: a repr ends up in logs and tracebacks.
        return (f"<OutboxMessage id={self.id} case={self.case_reference} "
                f"channel={self.channel} status={self.status} attempts={self.attempts}>")


def _check_aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise OutboxError(f"{name} must carry its offset")


def enqueue(
    session: Session,
    *,
    recipient_role: str,
    channel: MessageChannel | str,
    to_address: str,
    body_text: str,
    template: str,
    created_at: datetime,
    subject: str = "",
    case_reference: str | None = None,
    body_html: str | None = None,
    pdf: bytes | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Queue one message in the caller's transaction; held until ``not_before`` if later."""
    try:
        kind = MessageChannel(channel)
    except ValueError:
        raise OutboxError(f"unknown channel {channel!r}") from None
    if not recipient_role or not recipient_role.strip():
        raise OutboxError("a message needs a recipient role")
    if not to_address or not to_address.strip():
        raise OutboxError("a message needs an address to go to")
    if not template:
        raise OutboxError("a message needs the name of its template")
    if kind is MessageChannel.LETTER and not (pdf or body_html):
        raise OutboxError("a letter needs its PDF, or the HTML to print it from")
    if created_at is None:
        raise OutboxError("a message needs its creation time")
    _check_aware(created_at, "created_at")
    _check_aware(not_before, "not_before")
    waiting = not_before is not None and not_before > created_at
    message = OutboxMessage(
        case_reference=case_reference, recipient_role=recipient_role.strip(), channel=kind,
        to_address=to_address.strip(), subject=subject[:300], body_text=body_text,
        body_html=body_html, pdf=pdf, template=template,
        status=OutboxStatus.HELD if waiting else OutboxStatus.PENDING, attempts=0,
        next_attempt_at=not_before if waiting else created_at, not_before=not_before,
        created_at=created_at,
    )
    session.add(message)
    session.flush()
    return message


def due_messages(now: datetime, limit: int = 50) -> Select[tuple[OutboxMessage]]:
    """Select up to ``limit`` messages due at ``now``, oldest first, skipping locked rows."""
    _check_aware(now, "now")
    return (
        select(OutboxMessage)
        .where(
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.HELD]),
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
        )
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def failed_messages(case_reference: str | None = None) -> Select[tuple[OutboxMessage]]:
    """Select messages that gave up, newest first, for someone to look at."""
    query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    if case_reference is not None:
        query = query.where(OutboxMessage.case_reference == case_reference)
    return query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())


def messages_for_case(case_reference: str) -> Select[tuple[OutboxMessage]]:
    """Select a case's messages, oldest first, for the caller to paginate."""
    return (select(OutboxMessage)
            .where(OutboxMessage.case_reference == case_reference)
            .order_by(OutboxMessage.created_at, OutboxMessage.id))


def mark_sent(message: OutboxMessage, provider_id: str | None, now: datetime) -> None:
    """Record that the provider accepted ``message`` under ``provider_id``."""
    _check_aware(now, "now")
    message.status = OutboxStatus.SENT
    message.attempts = (message.attempts or 0) + 1
    message.provider_id = provider_id[:200] if provider_id else None
    message.sent_at = now
    message.next_attempt_at = None
    message.last_error = None


def mark_failed(
    message: OutboxMessage,
    error: str,
    now: datetime,
    backoff: timedelta = BASE_BACKOFF,
    *,
    retryable: bool = True,
    max_attempts: int = MAX_ATTEMPTS,
) -> None:
    """Record a failed attempt: retry after 1, 2, 4 ... x ``backoff``, or fail for good."""
    _check_aware(now, "now")
    attempts = (message.attempts or 0) + 1
    message.attempts = attempts
    message.last_error = scrub_error(error)
    if retryable and attempts < max_attempts:
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = now + backoff * (2 ** (attempts - 1))
    else:
        message.status = OutboxStatus.FAILED
        message.next_attempt_at = None


def scrub_error(error: str) -> str:
    """Return ``error`` without e-mail addresses or phone-like numbers, and not too long."""
    text = _EMAIL_LIKE.sub("[address]", str(error))
    text = _NUMBER_LIKE.sub("[number]", text)
    return text[:MAX_ERROR_LENGTH]
