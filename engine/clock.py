"""The product's one clock: every "now" in the engine, the cases and the web comes from here.

SpiffWorkflow's timer module reads ``datetime.now(timezone.utc)`` directly and has no hook,
so ``install_spiff_clock()`` points that module's ``datetime`` name at a subclass whose
``now()`` asks this clock. Tests, the demo-data generator and the ``ASB_TESTING`` hook move
time with ``set_now``/``advance``; production leaves the clock on the system time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, tzinfo

_lock = threading.Lock()
_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """Return the product's current time, aware and in UTC."""
    frozen = _frozen
    if frozen is not None:
        return frozen
    return datetime.now(UTC) + _offset


def set_now(moment: datetime, *, frozen: bool = True) -> None:
    """Move the product clock to ``moment``; frozen by default so tests are repeatable."""
    global _frozen, _offset
    if moment.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    with _lock:
        if frozen:
            _frozen = moment.astimezone(UTC)
            _offset = timedelta(0)
        else:
            _frozen = None
            _offset = moment.astimezone(UTC) - datetime.now(UTC)


def advance(delta: timedelta) -> datetime:
    """Move the product clock forward by ``delta`` and return the new time."""
    global _frozen, _offset
    with _lock:
        if _frozen is not None:
            _frozen = _frozen + delta
        else:
            _offset = _offset + delta
    return now()


def reset() -> None:
    """Put the clock back on the system time."""
    global _frozen, _offset
    with _lock:
        _frozen = None
        _offset = timedelta(0)


class _ClockDatetime(datetime):
    """A ``datetime`` whose ``now()`` follows the product clock."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = now()
        if tz is not None:
            return current.astimezone(tz)
        return current.astimezone().replace(tzinfo=None)


def install_spiff_clock() -> None:
    """Make SpiffWorkflow's timer events read the product clock (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _ClockDatetime
