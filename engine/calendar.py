"""The business calendar: working days in England and "within N working days" deadlines.

A working day is Monday to Friday and not a bank holiday in England (the ``holidays``
package, which carries substitute days and one-off holidays such as the 2023 Coronation).
"Within N working days" means by close of business on the N-th working day after the
calendar day, in the council's time zone, on which the report was received: the day of
receipt never counts, whatever the hour. Deadlines come back as aware datetimes in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DEFAULT_CLOSE_OF_BUSINESS = time(17, 0)
DEFAULT_TIMEZONE = "Europe/London"

_HHMM_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@lru_cache(maxsize=256)
def _bank_holidays(year: int) -> frozenset[date]:
    """Return England's bank holidays falling in ``year`` (substitute days included)."""
    # Ask for the neighbouring years too, so that a substitute day observed across a year
    # boundary is never lost, then keep only the days that fall in ``year``.
    table = holidays.country_holidays("GB", subdiv="ENG", years=[year - 1, year, year + 1])
    return frozenset(day for day in table if day.year == year)


def parse_close_of_business(value: time | str) -> time:
    """Return ``value`` as a naive ``time``, accepting "HH:MM"; raise ValueError otherwise."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError("close of business is a local wall-clock time, without an offset")
        return value
    if isinstance(value, str):
        match = _HHMM_RE.fullmatch(value.strip())
        if match:
            return time(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"close of business must be a time or 'HH:MM' (24-hour), not {value!r}")


def _check_days(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"the number of working days must be a whole number, not {n!r}")
    if n < 0:
        raise ValueError(f"the number of working days cannot be negative (got {n})")
    return n


class BusinessCalendar:
    """Working days in England and deadlines at close of business in one time zone."""

    def __init__(
        self,
        close_of_business: time | str = DEFAULT_CLOSE_OF_BUSINESS,
        tz: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.close_of_business = parse_close_of_business(close_of_business)
        try:
            self.tz = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r}") from None

    def __repr__(self) -> str:
        cob = self.close_of_business.strftime("%H:%M")
        return f"BusinessCalendar(close_of_business={cob!r}, tz={self.tz.key!r})"

    def to_aware(self, moment: datetime | str) -> datetime:
        """Return ``moment`` as an aware datetime; a string without offset is local time."""
        if isinstance(moment, str):
            try:
                parsed = datetime.fromisoformat(moment.strip())
            except ValueError:
                raise ValueError(f"{moment!r} is not an ISO 8601 date and time") from None
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=self.tz)
        if not isinstance(moment, datetime):
            raise ValueError(f"expected a datetime or an ISO 8601 string, not {moment!r}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("a naive datetime is ambiguous: give it a time zone or an offset")
        return moment

    def local_date(self, moment: datetime | str) -> date:
        """Return the calendar day, in this calendar's time zone, on which ``moment`` falls."""
        return self.to_aware(moment).astimezone(self.tz).date()

    def is_working_day(self, d: date) -> bool:
        """Return True when ``d`` is Monday to Friday and not a bank holiday in England."""
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"is_working_day takes a date, not {d!r}")
        return d.weekday() < 5 and d not in _bank_holidays(d.year)

    def next_working_day(self, d: date) -> date:
        """Return the first working day strictly after ``d``."""
        day = d + timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def close_of_business_on(self, d: date) -> datetime:
        """Return close of business on the local day ``d``, as an aware datetime in UTC."""
        # Working days are never Sundays, when the clocks change, so the local time exists.
        return datetime.combine(d, self.close_of_business, tzinfo=self.tz).astimezone(UTC)

    def due_after_working_days(self, received_at: datetime | str, n: int) -> datetime:
        """Return close of business on the n-th working day after the local day of receipt."""
        days = _check_days(n)
        day = self.local_date(received_at)
        if days == 0:
            if not self.is_working_day(day):
                day = self.next_working_day(day)
        else:
            for _ in range(days):
                day = self.next_working_day(day)
        return self.close_of_business_on(day)

    def working_days_between(self, start: datetime | str, end: datetime | str) -> int:
        """Count working days after ``start``'s local day up to and including ``end``'s."""
        first = self.local_date(start)
        last = self.local_date(end)
        if last <= first:
            return 0
        span = (last - first).days
        full_weeks, rest = divmod(span, 7)
        weekdays = full_weeks * 5
        weekdays += sum(1 for i in range(1, rest + 1) if (first + timedelta(days=i)).weekday() < 5)
        holidays_in_span = sum(
            1
            for year in range(first.year, last.year + 1)
            for day in _bank_holidays(year)
            if first < day <= last and day.weekday() < 5
        )
        return weekdays - holidays_in_span

    def is_late(self, due_at: datetime | str, done_at: datetime | str) -> bool:
        """Return True when ``done_at`` is after ``due_at``; done on the instant is on time."""
        return self.to_aware(done_at) > self.to_aware(due_at)


@lru_cache(maxsize=32)
def _calendar(close_of_business: time) -> BusinessCalendar:
    return BusinessCalendar(close_of_business=close_of_business)


def default_calendar() -> BusinessCalendar:
    """Return the calendar with the default close of business (17:00 Europe/London)."""
    return _calendar(DEFAULT_CLOSE_OF_BUSINESS)


def due_after_working_days(
    received_at: datetime | str,
    n: int,
    close_of_business: time | str | None = None,
) -> datetime:
    """Return the UTC deadline n working days after receipt, at close of business in London."""
    cob = (
        DEFAULT_CLOSE_OF_BUSINESS
        if close_of_business is None
        else parse_close_of_business(close_of_business)
    )
    return _calendar(cob).due_after_working_days(received_at, n)
