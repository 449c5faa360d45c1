"""E-mails telling a user their sign-in credentials changed (ASVS 2.2.3, 2.5.5).

Queued in the outbox in the same transaction as the change, so a notice leaves only if the
change is committed. A notice says what changed, when, and what to do if it was not them;
it never holds a password, a code or a link.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cases.audit import AuditRecord, record
from cases.outbox import MessageChannel, enqueue
from cases.people import User

LONDON = ZoneInfo("Europe/London")
TEMPLATE = "account.notice"
QUEUED = "account.notice_queued"
NOT_SENT = "account.notice_not_sent"

# kind: (subject, what happened, said of the person who did it or None when the user did)
WHAT: dict[str, tuple[str, str, str | None]] = {
    "password_changed": ("Your password was changed", "Your password was changed", None),
    "password_reset": ("Your password was reset", "Your password was reset",
                       "an administrator"),
    "two_factor_enrolled": ("Two-factor sign-in was set up",
                            "An authenticator app was set up for your two-factor sign-in, "
                            "and new recovery codes were made", None),
    "recovery_codes_regenerated": ("New recovery codes were made",
                                   "New recovery codes were made for your two-factor sign-in: "
                                   "the old ones no longer work", None),
    "two_factor_reset": ("Your two-factor sign-in was reset",
                         "Your two-factor sign-in was reset: your authenticator app and "
                         "recovery codes no longer work, and you will set them up again at "
                         "your next sign-in", "an administrator"),
    "disabled": ("Your account was disabled",
                 "Your account was disabled: you cannot sign in", "an administrator"),
    "enabled": ("Your account was enabled again", "Your account was enabled again: you can "
                "sign in", "an administrator"),
    "sessions_revoked": ("You were signed out everywhere",
                         "You were signed out of every browser where you were signed in",
                         "an administrator"),
}


def _when(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%H:%M} (UK time)"


def body_of(user: User, kind: str, moment: datetime, by: str | None) -> str:
    """The plain-text notice: what changed, when, and what to do if it was not them."""
    _, what, who = WHAT[kind]
    actor = f" by {who} ({by})" if who and by and by != user.name else ""
    return (
        f"Hello {user.display_name},\n\n"
        f"{what}{actor} on {_when(moment)}. Your user name is {user.name}.\n\n"
        "If you or your administrator did this, you need do nothing.\n\n"
        "If it was not you and you did not ask for it, someone else may be using your "
        "account. Tell your administrator or the council's IT service desk straight away, "
        "and change your password when you can sign in. Do not reply to this e-mail.\n\n"
        "This e-mail never contains passwords, codes or links.\n")


def tell_user(session: Session, user: User, kind: str, *, now: datetime, by: str) -> bool:
    """Queue the notice of ``kind`` to ``user`` and audit it; tell whether it was queued."""
    subject = WHAT[kind][0]
    if not user.email:
        record(session, AuditRecord(at=now, actor=by, action=NOT_SENT, object_type="user",
                                    object_id=user.name,
                                    summary={"about": kind, "why": "no e-mail address"}))
        return False
    message = enqueue(session, recipient_role="staff", channel=MessageChannel.EMAIL,
                      to_address=user.email, subject=subject,
                      body_text=body_of(user, kind, now, by), template=TEMPLATE,
                      created_at=now)
    record(session, AuditRecord(at=now, actor=by, action=QUEUED, object_type="user",
                                object_id=user.name,
                                summary={"about": kind, "message": message.id}))
    return True
