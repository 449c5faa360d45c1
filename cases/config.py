"""Council configuration, each value recorded with the moment from which it applies.

Figures that law or local policy can change (deadlines, thresholds, the partner directory,
the postcode-to-ward table) live here rather than in code. Every change is a new row with an
``effective_from``; the value in force at a moment is the row with the latest
``effective_from`` at or before it, else the default, so an event is always judged by the
rules that applied when it happened. Nothing is ever overwritten: the rows are the history.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Select, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.base import Base, Timestamp
from cases.config_values import (
    DEFAULTS,
    OUTWARD_CODE,
    PARTNER_KINDS,
    VALIDATORS,
    ConfigInvalid,
    Validator,
    known_key,
    validate,
)

__all__ = [
    "DEFAULTS", "LOCAL_TZ", "PARTNER_KINDS", "VALIDATORS", "Clock", "ConfigInvalid",
    "CouncilSetting", "Validator", "cancel_scheduled", "get_setting", "history",
    "history_query", "normalise_postcode", "schedule_setting", "set_setting",
    "settings_in_force", "validate", "ward_for_postcode",
]

Clock = Callable[[], datetime]

LOCAL_TZ = ZoneInfo("Europe/London")
_FULL_POSTCODE_RE = re.compile(rf"({OUTWARD_CODE})([0-9][A-Z]{{2}})")
_OUTWARD_RE = re.compile(OUTWARD_CODE)


class CouncilSetting(Base):
    """One value of one setting, in force from ``effective_from`` until the next one."""

    __tablename__ = "council_settings"
    __table_args__ = (UniqueConstraint("key", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    value: Mapped[Any] = mapped_column(JSON)
    effective_from: Mapped[datetime] = mapped_column(Timestamp())
    recorded_at: Mapped[datetime] = mapped_column(Timestamp())
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(field: str, moment: Any) -> datetime:
    if not isinstance(moment, datetime):
        raise ConfigInvalid(field, f"{field} must be a datetime, not {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigInvalid(field, f"{field} must carry a time zone or offset")
    return moment.astimezone(UTC)


def _moment(at: datetime | None, now: Clock | None) -> datetime:
    return _aware("at", at if at is not None else (now or _utcnow)())


def set_setting(
    session: Session,
    key: str,
    value: Any,
    effective_from: datetime | date,
    recorded_by: str | None = None,
    note: str | None = None,
    *,
    now: Clock | None = None,
) -> CouncilSetting:
    """Record ``value`` for ``key`` from ``effective_from`` (a date means 00:00 London)."""
    clean = validate(key, value)
    if isinstance(effective_from, date) and not isinstance(effective_from, datetime):
        effective_from = datetime.combine(effective_from, time(0), tzinfo=LOCAL_TZ)
    start = _aware("effective_from", effective_from)
    if recorded_by is not None and (not isinstance(recorded_by, str) or len(recorded_by) > 64):
        raise ConfigInvalid("recorded_by", "recorded_by must be a name of at most 64 characters")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise ConfigInvalid("note", "a note must be text of at most 500 characters")
    if _taken(session, key, start):
        raise _clash(key, start)
    row = CouncilSetting(key=key, value=clean, effective_from=start,
                         recorded_at=_aware("now", (now or _utcnow)()),
                         recorded_by=recorded_by, note=note)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        if _taken(session, key, start):
            raise _clash(key, start) from None
        raise
    return row


def schedule_setting(
    session: Session,
    key: str,
    value: Any,
    starts: date,
    recorded_by: str,
    note: str | None = None,
    *,
    now: Clock | None = None,
) -> CouncilSetting:
    """Record ``value`` from the London day ``starts``: from now if that is today, never before.

    A value already in force is never replaced for the past: the history stays true.
    """
    moment = _moment(None, now)
    if not isinstance(starts, date) or isinstance(starts, datetime):
        raise ConfigInvalid("effective_from", "the start must be a date")
    if starts < moment.astimezone(LOCAL_TZ).date():
        raise ConfigInvalid("effective_from", "the date a value takes effect must be today or "
                                              "later: values already in force never change")
    effective = (moment if starts == moment.astimezone(LOCAL_TZ).date()
                 else datetime.combine(starts, time(0), tzinfo=LOCAL_TZ))
    return set_setting(session, key, value, effective, recorded_by, note, now=lambda: moment)


def cancel_scheduled(
    session: Session, setting_id: int, *, now: Clock | None = None
) -> CouncilSetting:
    """Remove a value that has not yet taken effect and return it; refuse one in force."""
    row = session.get(CouncilSetting, setting_id)
    if row is None:
        raise ConfigInvalid("id", f"no recorded value has the id {setting_id}")
    if row.effective_from <= _moment(None, now):
        raise ConfigInvalid("effective_from", "this value has taken effect: it stays in the "
                                              "history; schedule a new value instead")
    session.delete(row)
    session.flush()
    return row


def _taken(session: Session, key: str, start: datetime) -> bool:
    query = select(CouncilSetting.id).where(CouncilSetting.key == key,
                                            CouncilSetting.effective_from == start)
    return session.scalars(query).first() is not None


def _clash(key: str, start: datetime) -> ConfigInvalid:
    return ConfigInvalid("effective_from",
                         f"a value of {key} already takes effect at {start.isoformat()}")


def get_setting(
    session: Session, key: str, at: datetime | None = None, *, now: Clock | None = None
) -> Any:
    """Return the value of ``key`` in force at ``at`` (default: ``now()``), else the default."""
    query = history_query(key).where(CouncilSetting.effective_from <= _moment(at, now))
    row = session.scalars(query.limit(1)).first()
    return copy.deepcopy(row.value if row is not None else DEFAULTS[key])


def settings_in_force(
    session: Session, at: datetime | None = None, *, now: Clock | None = None
) -> dict[str, dict[str, Any]]:
    """Return every setting's value in force at ``at``, with its row's provenance."""
    moment = _moment(at, now)
    latest: dict[str, CouncilSetting] = {}
    query = (
        select(CouncilSetting)
        .where(CouncilSetting.effective_from <= moment)
        .order_by(CouncilSetting.effective_from, CouncilSetting.id)
    )
    for row in session.scalars(query):
        latest[row.key] = row
    return {key: _provenance(latest.get(key), default) for key, default in DEFAULTS.items()}


def _provenance(row: CouncilSetting | None, default: Any) -> dict[str, Any]:
    if row is None:
        return {"value": copy.deepcopy(default), "effective_from": None, "recorded_by": None,
                "note": None}
    return {"value": copy.deepcopy(row.value), "effective_from": row.effective_from,
            "recorded_by": row.recorded_by, "note": row.note}


def history_query(key: str) -> Select[tuple[CouncilSetting]]:
    """Return a query for every recorded value of ``key``, newest ``effective_from`` first."""
    return (
        select(CouncilSetting)
        .where(CouncilSetting.key == known_key(key))
        .order_by(CouncilSetting.effective_from.desc(), CouncilSetting.id.desc())
    )


def history(session: Session, key: str) -> list[CouncilSetting]:
    """Return every recorded value of ``key``, newest ``effective_from`` first."""
    return list(session.scalars(history_query(key)))


def normalise_postcode(postcode: str) -> str | None:
    """Return a UK postcode upper-cased with one space before the inward code, else None."""
    if not isinstance(postcode, str):
        return None
    compact = "".join(postcode.upper().split())
    full = _FULL_POSTCODE_RE.fullmatch(compact)
    if full:
        return f"{full.group(1)} {full.group(2)}"
    return compact if _OUTWARD_RE.fullmatch(compact) else None


def ward_for_postcode(
    session: Session, postcode: str, at: datetime | None = None, *, now: Clock | None = None
) -> str | None:
    """Return the ward of ``postcode`` from the table in force, by longest matching prefix."""
    normal = normalise_postcode(postcode)
    if normal is None:
        return None
    table: dict[str, str] = get_setting(session, "postcode_wards", at, now=now)
    outward, _, inward = normal.partition(" ")
    area = re.match(r"[A-Z]+", outward)
    candidates = [normal] + [f"{outward} {inward[:i]}" for i in (2, 1) if inward]
    candidates += [outward, area.group(0) if area else outward]
    return next((table[c] for c in candidates if c in table), None)
