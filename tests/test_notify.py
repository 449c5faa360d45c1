"""Notifications: preferences, a real SMTP exchange, a GOV.UK Notify stand-in, the sender, the
service. Network only to 127.0.0.1."""

from __future__ import annotations

import base64
import json
import logging
import socket
import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import TokenDecodeError
from sqlalchemy import func, select
from werkzeug import Request, Response

from cases.outbox import OutboxMessage, OutboxStatus, enqueue
from tasks.notify.channels import (
    ChannelMisconfigured,
    DeliveryFailed,
    NotifyChannel,
    SmtpChannel,
    channels_from_env,
)
from tasks.notify.outbox_sender import letter_pdf, send_due
from tasks.notify.preferences import PreferencesInvalid, choose_channel, next_safe_time
from tasks.notify.service import NoWrittenChannel, notify_reporter

LONDON = ZoneInfo("Europe/London")
EMAIL = "reporter.private@example.net"
MOBILE = "07700900123"
POSTAL = "9 Secret Close\nChesterfield\nS40 2ZZ"
BODY = "Body text that mentions QXBODY and must never reach a log"
COUNCIL = {"name": "Chesterfield Borough Council", "phone": "01246 345345",
           "email": "asb@chesterfield.example.org"}
OFFICER = {"name": "Priya Officer", "phone": "01246 959595",
           "email": "priya.officer@chesterfield.example.org"}
WEEKDAYS_9_TO_5 = {"safe_times": [{"days": "mon-fri", "from": "09:00", "to": "17:00"}]}


def london(*args):
    return datetime(*args, tzinfo=LONDON)


# ---------------------------------------------------------------------------------------
# Preferences


def test_first_preferred_channel_with_an_address():
    contacts = {"email": EMAIL, "sms": MOBILE, "letter": POSTAL}
    assert choose_channel({"channels": ["sms", "email"]}, contacts) == ("sms", MOBILE)
    assert choose_channel({"channels": ["letter", "sms"]}, {"sms": MOBILE}) == ("sms", MOBILE)
    assert choose_channel({}, {"letter": POSTAL, "email": EMAIL}) == ("letter", POSTAL)
    assert choose_channel(None, {"email": " ", "sms": MOBILE}) == ("sms", MOBILE)


def test_never_an_unsafe_channel():
    contacts = {"email": EMAIL, "sms": MOBILE, "letter": POSTAL}
    prefs = {"channels": ["letter", "email", "sms"], "unsafe_channels": ["letter", "email"]}
    assert choose_channel(prefs, contacts) == ("sms", MOBILE)
    # Missing "channels": the order of the contact details, still without the unsafe ones.
    assert choose_channel({"unsafe_channels": ["email"]}, contacts) == ("sms", MOBILE)
    everything_unsafe = {"unsafe_channels": ["email", "sms", "letter"]}
    assert choose_channel(everything_unsafe, contacts) is None


def test_no_written_channel_means_none():
    assert choose_channel({"channels": ["phone"]}, {"phone": "01246 000000"}) is None
    assert choose_channel({"channels": ["email"]}, {"sms": MOBILE}) is None
    assert choose_channel({}, {}) is None


def test_bad_preferences_are_refused():
    with pytest.raises(PreferencesInvalid):
        choose_channel({"channels": ["carrier pigeon"]}, {})
    with pytest.raises(PreferencesInvalid):
        next_safe_time({"safe_times": [{"days": "mon-fri", "from": "9", "to": "17:00"}]},
                       london(2026, 1, 5, 10))
    with pytest.raises(PreferencesInvalid):
        next_safe_time({"safe_times": [{"days": "weekdays", "from": "09:00", "to": "17:00"}]},
                       london(2026, 1, 5, 10))


def test_friday_night_waits_until_monday_morning():
    friday_night = london(2026, 11, 20, 22, 0)
    assert next_safe_time(WEEKDAYS_9_TO_5, friday_night) == london(2026, 11, 23, 9, 0)
    assert next_safe_time(WEEKDAYS_9_TO_5, friday_night).tzinfo == LONDON


def test_inside_a_window_is_now_and_no_windows_is_any_time():
    tuesday_noon = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert next_safe_time(WEEKDAYS_9_TO_5, tuesday_noon) == tuesday_noon
    assert next_safe_time({}, tuesday_noon) == tuesday_noon
    assert next_safe_time(WEEKDAYS_9_TO_5, london(2026, 11, 24, 17, 0)) == london(2026, 11, 25, 9)
    assert next_safe_time(WEEKDAYS_9_TO_5, london(2026, 11, 24, 7, 0)) == london(2026, 11, 24, 9)


def test_weekend_and_overnight_windows_and_the_clock_change():
    weekend = {"safe_times": [{"days": "sat-sun", "from": "10:00", "to": "12:00"}]}
    assert next_safe_time(weekend, london(2026, 11, 23, 9)) == london(2026, 11, 28, 10)
    overnight = {"safe_times": [{"days": "any", "from": "20:00", "to": "06:00"}]}
    assert next_safe_time(overnight, london(2026, 11, 24, 3)) == london(2026, 11, 24, 3)
    assert next_safe_time(overnight, london(2026, 11, 24, 7)) == london(2026, 11, 24, 20)
    # Friday 27 March 2026 after hours: Monday 30 March is in British Summer Time.
    monday = next_safe_time(WEEKDAYS_9_TO_5, london(2026, 3, 27, 18))
    assert monday == london(2026, 3, 30, 9)
    assert monday.astimezone(UTC) == datetime(2026, 3, 30, 8, tzinfo=UTC)


# ---------------------------------------------------------------------------------------
# A real SMTP server on 127.0.0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailBox:
    """aiosmtpd handler keeping what it receives; ``rcpt_reply`` makes it refuse recipients."""

    def __init__(self):
        self.envelopes = []
        self.rcpt_reply = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def make_message(db_session, **fields):
    fields.setdefault("case_reference", "ASB-2026-000777")
    fields.setdefault("recipient_role", "reporter")
    fields.setdefault("channel", "email")
    fields.setdefault("to_address", EMAIL)
    fields.setdefault("subject", "Your case ASB-2026-000777")
    fields.setdefault("body_text", BODY)
    fields.setdefault("template", "update")
    fields.setdefault("created_at", datetime(2026, 11, 24, 10, tzinfo=UTC))
    return enqueue(db_session, **fields)


def test_smtp_delivers_text_html_and_the_pdf(db_session, smtp):
    box, port = smtp
    pdf = b"%PDF-1.7\n% a tiny stand-in letter\n%%EOF\n"
    message = make_message(db_session, body_html="<p>Hello <strong>HTML</strong></p>", pdf=pdf)
    channel = SmtpChannel("127.0.0.1", port, "asb@chesterfield.example.org", timeout=5)
    provider_id = channel.send(message)
    assert len(box.envelopes) == 1
    envelope = box.envelopes[0]
    assert envelope.mail_from == "asb@chesterfield.example.org"
    assert envelope.rcpt_tos == [EMAIL]
    received = message_from_bytes(envelope.content, policy=policy.default)
    assert received["Subject"] == "Your case ASB-2026-000777"
    assert received["To"] == EMAIL
    assert received["Message-ID"] == provider_id
    assert received.get_content_type() == "multipart/mixed"
    assert received.get_body(("plain",)).get_content().strip() == BODY
    assert "<strong>HTML</strong>" in received.get_body(("html",)).get_content()
    attachments = list(received.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_filename() == "ASB-2026-000777-update.pdf"
    assert attachments[0].get_content() == pdf


def test_smtp_plain_message_without_html_or_pdf(db_session, smtp):
    box, port = smtp
    SmtpChannel("127.0.0.1", port, "asb@chesterfield.example.org").send(
        make_message(db_session))
    received = message_from_bytes(box.envelopes[0].content, policy=policy.default)
    assert received.get_content_type() == "text/plain"


@pytest.mark.parametrize(("reply", "retryable"), [
    ("550 5.1.1 Mailbox unavailable", False),
    ("451 4.3.0 Try again later", True),
])
def test_smtp_refusals_are_permanent_or_temporary(db_session, smtp, reply, retryable):
    box, port = smtp
    box.rcpt_reply = reply
    channel = SmtpChannel("127.0.0.1", port, "asb@chesterfield.example.org", timeout=5)
    with pytest.raises(DeliveryFailed) as caught:
        channel.send(make_message(db_session))
    assert caught.value.retryable is retryable
    assert EMAIL not in str(caught.value)


def test_smtp_down_is_retryable(db_session):
    channel = SmtpChannel("127.0.0.1", free_port(), "asb@chesterfield.example.org", timeout=2)
    with pytest.raises(DeliveryFailed) as caught:
        channel.send(make_message(db_session))
    assert caught.value.retryable is True


# ---------------------------------------------------------------------------------------
# A GOV.UK Notify stand-in on 127.0.0.1

SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
API_KEY = f"asb_test-{SERVICE_ID}-{SECRET}"
TEMPLATES = {"email": str(uuid.uuid4()), "sms": str(uuid.uuid4())}


class NotifyStandIn:
    """Answers like Notify's v2 API, checking the JWT; ``fail_with`` forces an error status."""

    def __init__(self, server):
        self.server = server
        self.requests = []
        self.fail_with = None
        for kind in ("email", "sms", "letter"):
            server.expect_request(f"/v2/notifications/{kind}", method="POST").respond_with_handler(
                self._handler(kind))

    def _handler(self, kind):
        def handle(request: Request) -> Response:
            auth = request.headers.get("Authorization", "")
            scheme, _, token = auth.partition(" ")
            if scheme != "Bearer" or get_token_issuer(token) != SERVICE_ID:
                return self._error(403, "AuthError", "Invalid token: service not found")
            decode_jwt_token(token, SECRET)  # raises unless signed with the key's secret
            payload = json.loads(request.get_data())
            self.requests.append((kind, payload, auth))
            if self.fail_with:
                status = self.fail_with
                return self._error(status, "BadRequestError" if status == 400 else
                                   "Exception", "Internal server error" if status >= 500
                                   else "Template not found")
            notification_id = str(uuid.uuid4())
            if kind == "letter":
                body = {"id": notification_id, "reference": payload["reference"],
                        "postage": payload.get("postage", "second")}
            else:
                body = {"id": notification_id, "reference": payload.get("reference"),
                        "content": {"body": payload["personalisation"]["body"]},
                        "uri": f"{self.server.url_for('/v2/notifications/')}{notification_id}",
                        "template": {"id": payload["template_id"], "version": 1,
                                     "uri": "http://127.0.0.1/template"}}
            return Response(json.dumps(body), status=201, content_type="application/json")
        return handle

    @staticmethod
    def _error(status, error, message):
        body = {"status_code": status, "errors": [{"error": error, "message": message}]}
        return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def notify(httpserver_ipv4):
    stand_in = NotifyStandIn(httpserver_ipv4)
    channel = NotifyChannel(API_KEY, base_url=httpserver_ipv4.url_for("/").rstrip("/"),
                            template_ids=TEMPLATES, timeout=5)
    return stand_in, channel


def test_notify_email_sms_and_precompiled_letter(db_session, notify):
    stand_in, channel = notify
    email = make_message(db_session)
    sms = make_message(db_session, channel="sms", to_address=MOBILE, subject="")
    letter = make_message(db_session, channel="letter", to_address=POSTAL,
                          pdf=b"%PDF-1.7\n%%EOF\n")
    ids = [channel.send(m) for m in (email, sms, letter)]
    assert all(uuid.UUID(i) for i in ids)
    (k1, p1, auth), (k2, p2, _), (k3, p3, _) = stand_in.requests
    assert (k1, k2, k3) == ("email", "sms", "letter")
    assert p1["email_address"] == EMAIL and p1["template_id"] == TEMPLATES["email"]
    assert p1["personalisation"] == {"subject": "Your case ASB-2026-000777", "body": BODY,
                                     "case_reference": "ASB-2026-000777"}
    assert p1["reference"] == f"ASB-2026-000777/{email.id}"
    assert p2["phone_number"] == MOBILE and p2["template_id"] == TEMPLATES["sms"]
    assert base64.b64decode(p3["content"]).startswith(b"%PDF")
    assert p3["postage"] == "second" and p3["reference"] == f"ASB-2026-000777/{letter.id}"
    # A Bearer JWT: HS256, issued by the service id, signed with the secret half of the key.
    scheme, token = auth.split(" ")
    assert scheme == "Bearer" and token.count(".") == 2
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"typ": "JWT", "alg": "HS256"}
    assert get_token_issuer(token) == SERVICE_ID
    assert decode_jwt_token(token, SECRET) is True
    with pytest.raises(TokenDecodeError):
        decode_jwt_token(token, str(uuid.uuid4()))


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (400, False)])
def test_notify_errors(db_session, notify, status, retryable):
    stand_in, channel = notify
    stand_in.fail_with = status
    with pytest.raises(DeliveryFailed) as caught:
        channel.send(make_message(db_session, channel="sms", to_address=MOBILE))
    assert caught.value.retryable is retryable
    assert str(status) in str(caught.value)
    assert MOBILE not in str(caught.value)


def test_notify_without_a_template_is_a_permanent_failure(db_session, httpserver_ipv4):
    channel = NotifyChannel(API_KEY, base_url=httpserver_ipv4.url_for("/"), template_ids={})
    with pytest.raises(DeliveryFailed) as caught:
        channel.send(make_message(db_session))
    assert caught.value.retryable is False


# ---------------------------------------------------------------------------------------
# The sender: due messages out, outcomes recorded, backoff, nothing personal in the logs


def our_logs(caplog):
    return "\n".join(record.getMessage() for record in caplog.records
                     if not record.name.startswith(("mail.log", "werkzeug")))


def test_send_due_delivers_through_each_channel(db_session, smtp, notify, caplog):
    caplog.set_level(logging.DEBUG)
    box, port = smtp
    stand_in, notify_channel = notify
    now = datetime(2026, 11, 24, 10, tzinfo=UTC)
    email = make_message(db_session, body_html="<p>QXBODY</p>", pdf=b"%PDF-1.7\n%%EOF\n")
    sms = make_message(db_session, channel="sms", to_address=MOBILE)
    letter = make_message(db_session, channel="letter", to_address=POSTAL, pdf=b"%PDF-1.7\n")
    held = make_message(db_session, not_before=now + timedelta(hours=2))
    channels = {"email": SmtpChannel("127.0.0.1", port, "asb@chesterfield.example.org"),
                "sms": notify_channel, "letter": notify_channel}
    assert send_due(db_session, channels, now) == 3
    for message in (email, sms, letter):
        assert message.status is OutboxStatus.SENT and message.provider_id
        assert message.sent_at == now
    assert held.status is OutboxStatus.HELD
    assert len(box.envelopes) == 1 and len(stand_in.requests) == 2
    assert send_due(db_session, channels, now + timedelta(hours=1)) == 0
    assert send_due(db_session, channels, now + timedelta(hours=2)) == 1
    assert held.status is OutboxStatus.SENT and len(box.envelopes) == 2
    logs = our_logs(caplog)
    assert "sent" in logs
    for secret in (EMAIL, MOBILE, "Secret Close", "QXBODY", "Your case ASB"):
        assert secret not in logs


def test_retryable_failures_back_off_then_give_up(db_session, notify, caplog):
    caplog.set_level(logging.DEBUG)
    stand_in, channel = notify
    stand_in.fail_with = 500
    now = datetime(2026, 11, 24, 10, tzinfo=UTC)
    message = make_message(db_session, channel="sms", to_address=MOBILE)
    channels = {"sms": channel}
    waits = []
    for attempt in range(1, 9):
        assert send_due(db_session, channels, now) == 0
        assert message.attempts == attempt
        if message.status is OutboxStatus.FAILED:
            break
        assert message.status is OutboxStatus.PENDING
        # Not due a moment before the backoff ends.
        assert send_due(db_session, channels, message.next_attempt_at - timedelta(seconds=1)) == 0
        assert message.attempts == attempt
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64)]
    assert message.status is OutboxStatus.FAILED and message.attempts == 8
    assert "Notify HTTP 500" in message.last_error
    assert len(stand_in.requests) == 8
    # Failed stays visible and is not picked again.
    assert send_due(db_session, channels, now + timedelta(days=1)) == 0
    logs = our_logs(caplog)
    assert MOBILE not in logs and "QXBODY" not in logs


def test_a_retry_that_works_is_sent(db_session, notify):
    stand_in, channel = notify
    stand_in.fail_with = 500
    now = datetime(2026, 11, 24, 10, tzinfo=UTC)
    message = make_message(db_session, channel="sms", to_address=MOBILE)
    send_due(db_session, {"sms": channel}, now)
    stand_in.fail_with = None
    assert send_due(db_session, {"sms": channel}, now + timedelta(minutes=1)) == 1
    assert message.status is OutboxStatus.SENT and message.attempts == 2


def test_a_permanent_failure_fails_at_once(db_session, notify):
    stand_in, channel = notify
    stand_in.fail_with = 400
    message = make_message(db_session, channel="sms", to_address=MOBILE)
    assert send_due(db_session, {"sms": channel}, datetime(2026, 11, 24, 10, tzinfo=UTC)) == 0
    assert message.status is OutboxStatus.FAILED and message.attempts == 1
    assert "BadRequestError" in message.last_error


def test_a_missing_channel_or_a_broken_one_is_retried(db_session):
    class Broken:
        def send(self, message):
            raise RuntimeError(f"bug with {message.to_address}")

    now = datetime(2026, 11, 24, 10, tzinfo=UTC)
    unconfigured = make_message(db_session, channel="sms", to_address=MOBILE)
    broken = make_message(db_session)
    assert send_due(db_session, {"email": Broken()}, now) == 0
    assert unconfigured.status is OutboxStatus.PENDING
    assert "no channel configured" in unconfigured.last_error
    assert broken.status is OutboxStatus.PENDING
    assert broken.last_error == "unexpected RuntimeError"


# ---------------------------------------------------------------------------------------
# The service: channel by preference, safe times, the phone task


def ack_context():
    return {"council": COUNCIL, "officer": OFFICER, "recipient_name": "Ms Example",
            "priority": 2}


def count_messages(db_session, reference):
    return db_session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.case_reference == reference))


def test_email_waits_for_the_safe_time(db_session):
    friday_night = london(2026, 11, 20, 22, 0)
    prefs = {"channels": ["email", "letter"], **WEEKDAYS_9_TO_5}
    message = notify_reporter(
        db_session, case_reference="ASB-2026-000901", template="acknowledgement",
        context=ack_context(), prefs=prefs, contacts={"email": EMAIL, "letter": POSTAL},
        now=friday_night, officer_phone_task=None)
    assert message.channel == "email" and message.to_address == EMAIL
    assert message.not_before == london(2026, 11, 23, 9, 0)
    assert message.status is OutboxStatus.HELD
    assert message.body_html and "ASB-2026-000901" in message.body_html
    assert "Priya Officer" in message.body_text and message.pdf is None
    assert message.subject == "Your report of anti-social behaviour: reference ASB-2026-000901"
    assert message.id not in [m.id for m in db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING))]


def test_letter_is_printed_when_sent_and_sends_without_waiting(db_session):
    now = london(2026, 11, 20, 22, 0)
    prefs = {"channels": ["email", "letter"], "unsafe_channels": ["email"],
             "confidential": True, **WEEKDAYS_9_TO_5}
    message = notify_reporter(
        db_session, case_reference="ASB-2026-000902", template="acknowledgement",
        context=ack_context(), prefs=prefs, contacts={"email": EMAIL, "letter": POSTAL},
        now=now, officer_phone_task=None)
    assert message.channel == "letter" and message.to_address == POSTAL.strip()
    assert message.pdf is None  # nobody waits for the printing
    assert letter_pdf(message).startswith(b"%PDF") and message.pdf.startswith(b"%PDF")
    assert message.not_before is None and message.status is OutboxStatus.PENDING
    assert "9 Secret Close" in message.body_text
    assert "Private and confidential" in message.body_text
    # A confidential reporter's subject line says nothing about anti-social behaviour.
    assert "anti-social" not in message.subject.lower()


def test_sms_gets_the_short_text(db_session):
    message = notify_reporter(
        db_session, case_reference="ASB-2026-000903", template="acknowledgement",
        context=ack_context(), prefs={"channels": ["sms"]}, contacts={"sms": MOBILE},
        now=datetime(2026, 11, 24, 12, tzinfo=UTC))
    assert message.channel == "sms" and message.body_html is None
    assert message.body_text.startswith("Chesterfield Borough Council: we have received")
    assert len(message.body_text) < 918
    assert message.status is OutboxStatus.PENDING


def test_email_can_carry_the_letter_as_pdf(db_session):
    message = notify_reporter(
        db_session, case_reference="ASB-2026-000904", template="closure",
        context={**ack_context(), "closure_reason": "resolved"}, prefs={},
        contacts={"email": EMAIL}, now=datetime(2026, 11, 24, 12, tzinfo=UTC),
        attach_pdf=True)
    assert message.channel == "email" and message.pdf.startswith(b"%PDF")


def test_no_safe_written_channel_asks_the_officer_to_phone(db_session):
    reasons = []
    result = notify_reporter(
        db_session, case_reference="ASB-2026-000905", template="acknowledgement",
        context=ack_context(),
        prefs={"channels": ["phone", "email"], "unsafe_channels": ["email", "letter"],
               "no_voicemail": True},
        contacts={"phone": "01246 111222", "email": EMAIL, "letter": POSTAL},
        now=datetime(2026, 11, 24, 12, tzinfo=UTC), officer_phone_task=reasons.append)
    assert result is None
    assert count_messages(db_session, "ASB-2026-000905") == 0
    assert len(reasons) == 1
    assert "Phone the reporter" in reasons[0] and "voicemail" in reasons[0]
    assert "01246 111222" not in reasons[0] and EMAIL not in reasons[0]


def test_no_channel_and_no_phone_task_is_an_error(db_session):
    with pytest.raises(NoWrittenChannel):
        notify_reporter(
            db_session, case_reference="ASB-2026-000906", template="acknowledgement",
            context=ack_context(), prefs={}, contacts={},
            now=datetime(2026, 11, 24, 12, tzinfo=UTC), officer_phone_task=None)
    assert count_messages(db_session, "ASB-2026-000906") == 0


# ---------------------------------------------------------------------------------------
# Configuration from the environment


def test_channels_from_env():
    assert channels_from_env({}) == {}
    notify_only = channels_from_env({"ASB_NOTIFY_API_KEY": API_KEY,
                                     "ASB_NOTIFY_BASE_URL": "http://127.0.0.1:9"}, TEMPLATES)
    assert set(notify_only) == {"email", "sms", "letter"}
    assert all(isinstance(c, NotifyChannel) for c in notify_only.values())
    assert notify_only["sms"].template_ids == TEMPLATES
    both = channels_from_env({"ASB_NOTIFY_API_KEY": API_KEY, "ASB_SMTP_HOST": "127.0.0.1",
                              "ASB_SMTP_PORT": "2525",
                              "ASB_SMTP_SENDER": "asb@chesterfield.example.org"})
    assert isinstance(both["email"], SmtpChannel) and both["email"].port == 2525
    assert both["email"].username is None
    assert isinstance(both["sms"], NotifyChannel)
    assert SECRET not in repr(both)


@pytest.mark.parametrize("environ", [
    {"ASB_SMTP_HOST": "127.0.0.1"},
    {"ASB_SMTP_HOST": "127.0.0.1", "ASB_SMTP_SENDER": "a@b.example", "ASB_SMTP_PORT": "x"},
    {"ASB_NOTIFY_API_KEY": "too-short"},
    {"ASB_SMTP_HOST": "127.0.0.1", "ASB_SMTP_SENDER": "a@b.example",
     "ASB_SMTP_USERNAME": "user"},
])
def test_incomplete_configuration_is_refused(environ):
    with pytest.raises(ChannelMisconfigured):
        channels_from_env(environ)
