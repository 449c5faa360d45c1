"""Delivery channels: SMTP for e-mail and GOV.UK Notify for e-mail, text messages and letters.

A channel takes one outbox message and returns the provider's id for it, or raises
``DeliveryFailed`` saying whether trying again later could help. Error texts are built from
status codes and error names only: a provider's own message may quote the address.
"""

from __future__ import annotations

import io
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from cases.outbox import MessageChannel, OutboxMessage

NOTIFY_BASE_URL = "https://api.notifications.service.gov.uk"
DEFAULT_TIMEOUT = 30.0
# Notify's API keys end with "<service id>-<secret>", two UUIDs of 36 characters.
_NOTIFY_KEY_MIN_LENGTH = 74


class DeliveryFailed(Exception):
    """The provider did not take the message; ``retryable`` says whether a retry may work."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class ChannelMisconfigured(ValueError):
    """A channel's configuration is missing or malformed; the message names the setting."""


class Channel(Protocol):
    """Something that delivers an outbox message and returns the provider's id for it."""

    def send(self, message: OutboxMessage) -> str:
        """Deliver ``message``; raise ``DeliveryFailed`` when the provider refuses it."""
        ...


def _attachment_name(message: OutboxMessage) -> str:
    reference = (message.case_reference or f"message-{message.id}").replace("/", "-")
    return f"{reference}-{message.template}.pdf"


class SmtpChannel:
    """E-mail through an SMTP relay: plain text, an HTML alternative and any PDF attached."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not host or not sender:
            raise ChannelMisconfigured("SMTP needs a host and a sender address")
        if (username is None) != (password is None):
            raise ChannelMisconfigured("SMTP needs both a user name and a password, or neither")
        self.host = host
        self.port = int(port)
        self.sender = sender
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SmtpChannel(host={self.host!r}, port={self.port}, starttls={self.starttls})"

    def build(self, message: OutboxMessage) -> EmailMessage:
        """Return the MIME message for ``message`` (multipart when HTML or a PDF is present)."""
        mail = EmailMessage()
        domain = self.sender.rpartition("@")[2] or None
        try:
            mail["Subject"] = message.subject
            mail["From"] = self.sender
            mail["To"] = message.to_address
        except (ValueError, IndexError) as exc:
            raise DeliveryFailed("the e-mail address cannot be used",
                                 retryable=False) from exc
        mail["Message-ID"] = make_msgid(domain=domain)
        mail.set_content(message.body_text)
        if message.body_html:
            mail.add_alternative(message.body_html, subtype="html")
        if message.pdf:
            mail.add_attachment(message.pdf, maintype="application", subtype="pdf",
                                filename=_attachment_name(message))
        return mail

    def send(self, message: OutboxMessage) -> str:
        """Hand ``message`` to the relay and return its Message-ID."""
        if message.channel != MessageChannel.EMAIL:
            raise DeliveryFailed(f"SMTP cannot send a {message.channel}", retryable=False)
        mail = self.build(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username is not None and self._password is not None:
                    smtp.login(self.username, self._password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise DeliveryFailed(f"SMTP recipient refused ({codes})",
                                 retryable=all(400 <= c < 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            # 4xx is "try again later"; 5xx is a refusal that will not change by itself.
            raise DeliveryFailed(f"SMTP error {exc.smtp_code}",
                                 retryable=exc.smtp_code < 500) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryFailed("SMTP server lacks a required extension",
                                 retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP connection failed ({type(exc).__name__})",
                                 retryable=True) from None
        return str(mail["Message-ID"])


class NotifyChannel:
    """GOV.UK Notify: e-mail and text messages through templates, letters as PDFs."""

    def __init__(
        self,
        api_key: str,
        base_url: str = NOTIFY_BASE_URL,
        template_ids: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        postage: str = "second",
    ) -> None:
        if not api_key or len(api_key) < _NOTIFY_KEY_MIN_LENGTH:
            raise ChannelMisconfigured("ASB_NOTIFY_API_KEY is not a GOV.UK Notify API key")
        if not base_url:
            raise ChannelMisconfigured("ASB_NOTIFY_BASE_URL is empty")
        self.base_url = base_url
        self.template_ids = dict(template_ids or {})
        self.postage = postage
        self._client = NotificationsAPIClient(api_key, base_url=base_url, timeout=timeout)

    def __repr__(self) -> str:
        return f"NotifyChannel(base_url={self.base_url!r})"

    def template_for(self, message: OutboxMessage) -> str:
        """Return the Notify template id for ``message``: "<template>.<channel>" or "<channel>"."""
        channel = str(message.channel)
        template_id = (self.template_ids.get(f"{message.template}.{channel}")
                       or self.template_ids.get(channel))
        if not template_id:
            raise DeliveryFailed(f"no Notify template configured for {channel}",
                                 retryable=False)
        return template_id

    def _reference(self, message: OutboxMessage) -> str:
        # Notify shows the reference to the council's staff: no personal data in it.
        return f"{message.case_reference or 'none'}/{message.id}"

    def send(self, message: OutboxMessage) -> str:
        """Send ``message`` through Notify and return Notify's notification id."""
        personalisation = {"subject": message.subject, "body": message.body_text,
                           "case_reference": message.case_reference or ""}
        try:
            if message.channel == MessageChannel.EMAIL:
                response = self._client.send_email_notification(
                    email_address=message.to_address, template_id=self.template_for(message),
                    personalisation=personalisation, reference=self._reference(message))
            elif message.channel == MessageChannel.SMS:
                response = self._client.send_sms_notification(
                    phone_number=message.to_address, template_id=self.template_for(message),
                    personalisation={"body": message.body_text},
                    reference=self._reference(message))
            elif message.channel == MessageChannel.LETTER:
                if not message.pdf:
                    raise DeliveryFailed("a letter without its PDF", retryable=False)
                response = self._client.send_precompiled_letter_notification(
                    reference=self._reference(message), pdf_file=io.BytesIO(message.pdf),
                    postage=self.postage)
            else:
                raise DeliveryFailed(f"Notify cannot send a {message.channel}",
                                     retryable=False)
        except APIError as exc:
            raise _notify_failure(exc) from None
        provider_id = response.get("id") if isinstance(response, dict) else None
        if not provider_id:
            raise DeliveryFailed("Notify answered without a notification id", retryable=True)
        return str(provider_id)


def _notify_failure(exc: APIError) -> DeliveryFailed:
    """Translate a Notify client error into a failure that names no person."""
    status = exc.status_code
    names: list[str] = []
    try:
        body = exc.response.json() if exc.response is not None else {}
        names = [str(e.get("error")) for e in body.get("errors", []) if isinstance(e, dict)]
    except (ValueError, AttributeError):
        names = []
    detail = f" ({', '.join(sorted(set(names)))})" if names else ""
    # 429 (rate limit) and 5xx (Notify or the network) pass; other 4xx are our mistake.
    retryable = status == 429 or status >= 500
    return DeliveryFailed(f"Notify HTTP {status}{detail}", retryable=retryable)


def channels_from_env(
    environ: Mapping[str, str], notify_template_ids: Mapping[str, str] | None = None
) -> dict[str, Channel]:
    """Build the configured channels: Notify for e-mail, texts and letters; SMTP for e-mail.

    ``ASB_NOTIFY_API_KEY`` (and optionally ``ASB_NOTIFY_BASE_URL``) turns Notify on;
    ``ASB_SMTP_HOST`` with ``ASB_SMTP_SENDER`` (``ASB_SMTP_PORT``, default 25, and optional
    ``ASB_SMTP_STARTTLS``, ``ASB_SMTP_USERNAME``, ``ASB_SMTP_PASSWORD``) turns SMTP on, and
    then carries the e-mail. Nothing has a default secret; with neither, the dict is empty.
    """
    channels: dict[str, Channel] = {}
    api_key = environ.get("ASB_NOTIFY_API_KEY", "").strip()
    if api_key:
        notify = NotifyChannel(
            api_key, base_url=environ.get("ASB_NOTIFY_BASE_URL", "").strip() or NOTIFY_BASE_URL,
            template_ids=notify_template_ids)
        for name in (MessageChannel.EMAIL, MessageChannel.SMS, MessageChannel.LETTER):
            channels[str(name)] = notify
    host = environ.get("ASB_SMTP_HOST", "").strip()
    if host:
        sender = environ.get("ASB_SMTP_SENDER", "").strip()
        if not sender:
            raise ChannelMisconfigured("ASB_SMTP_SENDER is needed with ASB_SMTP_HOST")
        port_text = environ.get("ASB_SMTP_PORT", "").strip() or "25"
        if not port_text.isdecimal() or not 0 < int(port_text) < 65536:
            raise ChannelMisconfigured("ASB_SMTP_PORT must be a port number")
        starttls = environ.get("ASB_SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes")
        channels[str(MessageChannel.EMAIL)] = SmtpChannel(
            host, int(port_text), sender, starttls=starttls,
            username=environ.get("ASB_SMTP_USERNAME") or None,
            password=environ.get("ASB_SMTP_PASSWORD") or None)
    return channels
