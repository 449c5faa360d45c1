"""Reading the audit search's filters from a query string and turning them into a query."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from cases.audit import AuditEvent

LONDON = ZoneInfo("Europe/London")
NAMES = ("case", "user", "action", "from", "to")


class SearchInvalid(ValueError):
    """One or more filters could not be read: field name to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class AuditSearch:
    """What a manager asked for: every field optional, dates inclusive in UK time."""

    case: str = ""
    user: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None

    def args(self) -> dict[str, str]:
        """The filters as query-string values (only those given)."""
        values = {"case": self.case, "user": self.user, "action": self.action,
                  "from": self.start.isoformat() if self.start else "",
                  "to": self.end.isoformat() if self.end else ""}
        return {k: v for k, v in values.items() if v}

    def statement(self) -> Select[tuple[AuditEvent]]:
        """Select the matching rows (unordered: the caller pages by id)."""
        stmt = select(AuditEvent)
        if self.case:
            stmt = stmt.where(AuditEvent.case_reference == self.case)
        if self.user:
            stmt = stmt.where(AuditEvent.actor == self.user)
        if self.action:
            stmt = stmt.where(AuditEvent.action.startswith(self.action, autoescape=True))
        if self.start:
            stmt = stmt.where(AuditEvent.at >= _midnight(self.start))
        if self.end:
            stmt = stmt.where(AuditEvent.at < _midnight(self.end + timedelta(days=1)))
        return stmt


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON)


def _day(raw: str, field: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = f"Enter the {'start' if field == 'from' else 'end'} date as YYYY-MM-DD"
        return None


def read_search(args: Mapping[str, str]) -> AuditSearch:
    """Read the filters; raise ``SearchInvalid`` naming each bad field."""
    errors: dict[str, str] = {}
    text = {n: (args.get(n) or "").strip()[:100] for n in NAMES}
    start = _day(text["from"], "from", errors)
    end = _day(text["to"], "to", errors)
    if start and end and start > end:
        errors["to"] = "The end date must be the same as or after the start date"
    if errors:
        raise SearchInvalid(errors)
    return AuditSearch(case=text["case"].upper(), user=text["user"], action=text["action"],
                       start=start, end=end)


def read_cursor(args: Mapping[str, str], name: str) -> int | None:
    """A keyset cursor (``before`` or ``after`` an id), or None; raise SearchInvalid if bad."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdecimal() or len(raw) > 18:
        raise SearchInvalid({name: "That page link is not valid: start the search again"})
    return int(raw)
