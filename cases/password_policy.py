"""Which new passwords are refused: too short or long, common, breached-looking, or guessable.

ASVS 4.0.3 2.1.1, 2.1.2, 2.1.7 and 2.1.9: at least 12 characters, up to 1024, no composition
rules, and none of the 10,000 most common passwords (``common_passwords.txt``), also when
padded with digits or symbols, repeated, or built on the user's or the council's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from cases.config_values import DEFAULTS

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
LIST_FILE = Path(__file__).with_name("common_passwords.txt")
# Fewer than this many characters left once names are taken out: the password is a name.
_MIN_LEFT = 8
# Listed words at least this long, padded with a few characters, count as the listed word.
_MIN_WORD = 6
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_WORDS = re.compile(r"[a-z0-9]{3,}")


class WeakPassword(ValueError):
    """A new password that must not be used; the message says why, for the person typing it."""


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower case."""
    lines = LIST_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _council_words() -> list[str]:
    details = DEFAULTS.get("council_details")
    name = details.get("name", "") if isinstance(details, dict) else ""
    return [str(name)]


def _context_words(context: Iterable[str | None]) -> list[str]:
    words: set[str] = set()
    for text in [*context, *_council_words()]:
        lowered = (text or "").lower()
        words.update(word for word in _WORDS.findall(lowered)
                     if word not in {"the", "and", "council", "borough", "city", "county"})
    return sorted(words, key=len, reverse=True)


def _is_common(lowered: str) -> bool:
    listed = common_passwords()
    core = _EDGES.sub("", lowered)
    squashed = re.sub(r"[\W_]+", "", lowered)
    if lowered in listed or core in listed or squashed in listed:
        return True
    # A common password with a few characters added before or after ("123456789012").
    for size in range(len(squashed) - 1, _MIN_WORD - 1, -1):
        if len(squashed) - size < _MIN_LEFT - 2 and (
                squashed[:size] in listed or squashed[-size:] in listed):
            return True
    # One common password repeated ("qwertyqwerty") or a few characters over and over.
    for size in range(1, len(squashed) // 2 + 1):
        unit = squashed[:size]
        if len(squashed) % size == 0 and unit * (len(squashed) // size) == squashed:
            return size <= 3 or unit in listed or _EDGES.sub("", unit) in listed
    return False


def check_password_strength(password: str, context: Iterable[str | None] = ()) -> None:
    """Raise ``WeakPassword`` unless ``password`` may be used (``context``: the user's names)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"a password may have at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if _is_common(lowered):
        raise WeakPassword("this password is too common: it is on lists attackers try first. "
                           "Choose a longer phrase of unrelated words")
    left = re.sub(r"[\W_]+", "", lowered)
    for word in _context_words(context):
        left = left.replace(word, "")
    if len(left) < _MIN_LEFT or _is_common(left):
        raise WeakPassword("a password must not be based on your name, your user name or the "
                           "council's name")
