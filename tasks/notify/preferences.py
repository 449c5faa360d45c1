"""A reporter's contact preferences: which written channel to use, and when it is safe.

The preferences are a plain dict kept on the case record::

    {"channels": ["email", "sms", "phone", "letter"],   # preferred order
     "unsafe_channels": ["letter"],                      # never use these
     "safe_times": [{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
     "no_voicemail": True, "confidential": True}

A missing key means: channels in the order the contact details are given, nothing unsafe,
any time. Everything here is pure: no database, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
CONTACT_CHANNELS = ("email", "sms", "phone", "letter")
# Channels that leave something in writing; "phone" needs an officer to make the call.
WRITTEN_CHANNELS = frozenset({"email", "sms", "letter"})
# Channels whose arrival the reporter notices at once, so they wait for a safe time.
TIMED_CHANNELS = frozenset({"email", "sms"})

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class PreferencesInvalid(ValueError):
    """The stored contact preferences cannot be understood; the message names the key."""


def _channel_list(prefs: Mapping[str, Any], key: str) -> list[str]:
    value = prefs.get(key) or []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise PreferencesInvalid(f"{key} must be a list of channel names")
    for name in value:
        if name not in CONTACT_CHANNELS:
            raise PreferencesInvalid(f"{key} names an unknown channel {name!r}")
    return list(value)


def choose_channel(
    prefs: Mapping[str, Any] | None, available: Mapping[str, str]
) -> tuple[str, str] | None:
    """Return the first preferred safe written channel with a known address, or None."""
    prefs = prefs or {}
    unsafe = set(_channel_list(prefs, "unsafe_channels"))
    order = _channel_list(prefs, "channels") or [
        name for name in available if name in CONTACT_CHANNELS
    ]
    for name in order:
        if name in unsafe or name not in WRITTEN_CHANNELS:
            continue
        address = available.get(name)
        if isinstance(address, str) and address.strip():
            return name, address.strip()
    return None


def _parse_time(value: object, key: str) -> time:
    if isinstance(value, str):
        match = _HHMM.fullmatch(value.strip())
        if match:
            return time(int(match.group(1)), int(match.group(2)))
    raise PreferencesInvalid(f"safe_times {key} must be 'HH:MM' (24-hour), not {value!r}")


def _parse_days(value: object) -> frozenset[int]:
    """Turn "any", "sat-sun", "mon-fri", "tue" or "fri-mon" into weekday numbers."""
    if not isinstance(value, str):
        raise PreferencesInvalid(f"safe_times days must be text, not {value!r}")
    text = value.strip().lower()
    if text in ("any", ""):
        return frozenset(range(7))
    first, _, last = text.partition("-")
    if first not in _DAY_NAMES or (last and last not in _DAY_NAMES):
        raise PreferencesInvalid(f"safe_times days must be like 'mon-fri', not {value!r}")
    start = _DAY_NAMES.index(first)
    end = _DAY_NAMES.index(last) if last else start
    span = (end - start) % 7
    return frozenset((start + i) % 7 for i in range(span + 1))


def _windows(prefs: Mapping[str, Any]) -> list[tuple[frozenset[int], time, time]]:
    raw = prefs.get("safe_times") or []
    if not isinstance(raw, list | tuple):
        raise PreferencesInvalid("safe_times must be a list of windows")
    windows = []
    for window in raw:
        if not isinstance(window, Mapping):
            raise PreferencesInvalid("each safe time must be a dict with days, from and to")
        start = _parse_time(window.get("from"), "from")
        end = _parse_time(window.get("to"), "to")
        if start == end:
            raise PreferencesInvalid("a safe time window cannot start and end at the same time")
        windows.append((_parse_days(window.get("days", "any")), start, end))
    return windows


def _local(day: date, at: time) -> datetime:
    # Through UTC and back, so a wall time skipped by the spring change lands on a real one.
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC).astimezone(LONDON)


def next_safe_time(prefs: Mapping[str, Any] | None, now: datetime) -> datetime:
    """Return ``now`` (in London time) inside a safe window, else the next window's start."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("next_safe_time needs an aware datetime")
    local_now = now.astimezone(LONDON)
    windows = _windows(prefs or {})
    if not windows:
        return local_now
    best: datetime | None = None
    today = local_now.date()
    # Yesterday too: a window running past midnight may still be open now.
    for offset in range(-1, 9):
        day = today + timedelta(days=offset)
        for days, start_at, end_at in windows:
            if day.weekday() not in days:
                continue
            start = _local(day, start_at)
            end_day = day if end_at > start_at else day + timedelta(days=1)
            end = _local(end_day, end_at)
            if start <= local_now < end:
                return local_now
            if start > local_now and (best is None or start < best):
                best = start
    if best is None:  # pragma: no cover - every valid window opens within a week
        raise PreferencesInvalid("safe_times never open")
    return best
