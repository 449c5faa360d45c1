"""An optional check of a new password against a breached-password range service.

The k-anonymity model of Have I Been Pwned: only the first 5 hex characters of the
password's SHA-1 leave the server; the answer lists suffixes and counts. Off unless
``ASB_HIBP_URL`` names the service (e.g. ``https://api.pwnedpasswords.com/range/``).
"""

from __future__ import annotations

import hashlib
import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from flask import current_app

TIMEOUT_SECONDS = 3
BREACHED = ("this password has appeared in a data breach, so attackers will try it. "
            "Choose a different one")
log = logging.getLogger(__name__)


def times_breached(password: str, base: str | None = None) -> int | None:
    """How often the range service has seen ``password`` (0 if never); None when off or down.

    ``base`` is the service's address; by default the app's ``ASB_HIBP_URL``.
    """
    if base is None:
        base = current_app.config.get("ASB_HIBP_URL")
    if not base or urlsplit(str(base)).scheme not in ("http", "https"):
        return None
    digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:5], digest[5:]
    request = urllib.request.Request(  # noqa: S310 - scheme checked above: http(s) only
        str(base).rstrip("/") + "/" + prefix,
        headers={"Add-Padding": "true", "User-Agent": "asb-case-management"})
    try:
        # http(s) only, checked above:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 # nosec B310
            body = answer.read(4_000_000).decode("ascii", "replace")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        # Never the password or its hash: only that the service could not be asked.
        log.warning("breached-password service unavailable: %s", type(exc).__name__)
        return None
    for line in body.splitlines():
        found, _, count = line.strip().partition(":")
        if found.upper() == suffix:
            return int(count) if count.strip().isdecimal() else 1
    return 0


def breach_problem(password: str, base: str | None = None) -> str | None:
    """The message to show when ``password`` is known breached, else None (also when off)."""
    count = times_breached(password, base)
    return BREACHED if count else None
