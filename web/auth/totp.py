"""Time-based one-time codes (RFC 6238): secrets kept encrypted, codes checked once only.

The secret is encrypted with Fernet under a key derived from ``ASB_TOTP_KEY`` (or, when that
is not set, from ``SECRET_KEY``); it is shown only while the user sets up two-factor sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from cases.people import User

STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 8
ISSUER = "ASB case management"
_CODE_RE = re.compile(r"[0-9]{6}")
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


class SecretUnreadable(Exception):  # noqa: N818 - reads as the situation it names
    """The stored TOTP secret cannot be decrypted (the key changed): reset the user's 2FA."""


def _fernet() -> Fernet:
    material = str(current_app.config.get("ASB_TOTP_KEY") or current_app.config["SECRET_KEY"])
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"asb totp secret").derive(material.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str) -> str:
    """The secret, encrypted for the database."""
    return _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def decrypt(stored: str) -> str:
    """The secret from its encrypted form, or ``SecretUnreadable``."""
    try:
        return _fernet().decrypt(stored.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable from exc


def start_enrolment(user: User) -> None:
    """Give ``user`` a new, unconfirmed secret (dropping any earlier one and its codes)."""
    user.totp_secret = encrypt(pyotp.random_base32())
    user.totp_enrolled_at = None
    user.totp_last_step = None
    user.recovery_codes = None


def reset(user: User) -> None:
    """Forget the user's secret and recovery codes: they set up again at their next sign-in."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    user.recovery_codes = None


def is_enrolled(user: User) -> bool:
    """Tell whether ``user`` has confirmed a secret."""
    return user.totp_secret is not None and user.totp_enrolled_at is not None


def secret_of(user: User) -> str:
    """The user's secret in plain text (only for the set-up page)."""
    if user.totp_secret is None:
        raise SecretUnreadable
    return decrypt(user.totp_secret)


def provisioning_uri(user: User, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret_of(user)).provisioning_uri(name=user.name, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG element."""
    svg: str = segno.make(uri, error="m").svg_inline(
        scale=5, title="QR code to scan with your authenticator app", dark="#0b0c0c",
        light="#ffffff")
    return svg


def check_code(user: User, code: str, now: datetime) -> bool:
    """Accept a 6-digit code of this or a neighbouring time-step not used before; note its step."""
    code = re.sub(r"\s+", "", code or "")
    if not _CODE_RE.fullmatch(code) or user.totp_secret is None:
        return False
    totp = pyotp.TOTP(secret_of(user), interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    last = user.totp_last_step
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last is not None and step <= last:
            continue  # a code of a step already used (or older) is a replay
        if hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def _digest(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode("ascii")).hexdigest()


def _normalise(code: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", (code or "").upper())


def new_recovery_codes(user: User) -> list[str]:
    """Make fresh one-time recovery codes, keep salted digests only, return them this once.

    Each code has 60 random bits (12 base32 characters) and its own 32-bit salt (ASVS 2.6.2).
    """
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(12))
             for _ in range(RECOVERY_CODE_COUNT)]
    stored = []
    for code in codes:
        salt = secrets.token_hex(4)
        stored.append(f"{salt}${_digest(code, salt)}")
    user.recovery_codes = " ".join(stored)
    return [f"{code[:4]}-{code[4:8]}-{code[8:]}" for code in codes]


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code once; tell whether it was one."""
    cleaned = _normalise(code)
    if len(cleaned) != 12 or not user.recovery_codes:
        return False
    stored = user.recovery_codes.split()
    for entry in stored:
        salt, _, digest = entry.partition("$")
        if hmac.compare_digest(digest, _digest(cleaned, salt)):
            stored.remove(entry)
            user.recovery_codes = " ".join(stored) or None
            return True
    return False


def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes ``user`` holds."""
    return len((user.recovery_codes or "").split())
