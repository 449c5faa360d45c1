"""Statutory clocks of the court stages: clock hours without Christmas Day, months, 7-day windows.

These are not working-day deadlines (engine/calendar.py): the Anti-social Behaviour, Crime
and Policing Act 2014 counts closure periods in real elapsed hours, and says that "in
calculating when the period of 48 hours ends, Christmas Day is to be disregarded" (s77(3) for
a 48-hour closure notice, s80(4) for the hearing of the closure order application). Elapsed
hours are computed in UTC, so a change of the clocks in March or October neither adds nor
removes an hour; Christmas Day is the local day 25 December in Europe/London.

The Housing Act 1985 counts the absolute ground's periods in days and months "beginning with"
a day: the day itself is the first day of the period (s83ZA for the notice, s85ZA for the
review request).
"""

from __future__ import annotations

import calendar as _months
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.calendar import default_calendar

LONDON = ZoneInfo("Europe/London")
CLOSURE_HEARING_HOURS = 48            # s80(3): heard not later than 48 hours after service
REVIEW_REQUEST_DAYS = 7               # Housing Act 1985 s85ZA(2)


def aware(value: datetime | str) -> datetime:
    """Read a moment (ISO text or datetime) as an aware datetime; naive text is London time."""
    return default_calendar().to_aware(value)


def christmas_day(year: int) -> tuple[datetime, datetime]:
    """Christmas Day of ``year`` as a UTC interval: London midnight to the next midnight."""
    start = datetime.combine(date(year, 12, 25), time(0), tzinfo=LONDON)
    end = datetime.combine(date(year, 12, 26), time(0), tzinfo=LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)


def clock_hours_after(start: datetime | str, hours: float, *,
                      disregard_christmas: bool = True) -> datetime:
    """``hours`` of real elapsed time after ``start`` (UTC), not counting Christmas Day.

    Time that falls on Christmas Day stops the clock: a period running into 25 December
    resumes at midnight on 26 December, and one starting on Christmas Day starts then.
    """
    if hours < 0:
        raise ValueError("a period of hours cannot be negative")
    moment = aware(start).astimezone(UTC)
    remaining = timedelta(hours=hours)
    if not disregard_christmas:
        return moment + remaining
    year = moment.year
    while True:
        xmas_start, xmas_end = christmas_day(year)
        if moment >= xmas_end:
            year += 1
            continue
        if moment >= xmas_start:   # inside Christmas Day: the clock waits for its end
            moment = xmas_end
            year += 1
            continue
        if moment + remaining <= xmas_start:
            return moment + remaining
        remaining -= xmas_start - moment
        moment = xmas_end
        year += 1


def closure_hearing_deadline(served_at: datetime | str) -> str:
    """Diagram helper: when the closure order application must have been heard, as ISO text.

    48 clock hours after service of the closure notice, Christmas Day disregarded (s80(3)-(4)).
    Served Thu 24 Dec 2026 at 10:00 -> Sun 27 Dec 2026 at 10:00.
    """
    return clock_hours_after(served_at, CLOSURE_HEARING_HOURS).isoformat()


def closure_notice_ends(served_at: datetime | str, hours: int) -> datetime:
    """When a closure notice of ``hours`` (24 or 48) ends; only the 48-hour one skips Christmas."""
    if hours not in (24, 48):
        raise ValueError("a closure notice lasts 24 or 48 hours")
    return clock_hours_after(served_at, hours, disregard_christmas=hours == 48)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months on; the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _months.monthrange(year, month)[1]))


def months_after(moment: datetime | str, months: int) -> datetime:
    """The same London wall-clock time ``months`` calendar months after ``moment``, in UTC."""
    local = aware(moment).astimezone(LONDON)
    later = datetime.combine(add_months(local.date(), months), local.time().replace(tzinfo=None),
                             tzinfo=LONDON)
    return later.astimezone(UTC)


def start_of_day(day: date) -> datetime:
    """Midnight at the start of the London day ``day``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """The end of the London day ``day``: midnight at the start of the next day, in UTC."""
    return start_of_day(day + timedelta(days=1))


def last_day_of_period(first_day: date, months: int) -> date:
    """The last day of a period of ``months`` months beginning with ``first_day``.

    "Within 12 months beginning with the day of the conviction" of 5 March 2026 runs to the
    end of 4 March 2027: the corresponding day, less the one day already counted.
    """
    return add_months(first_day, months) - timedelta(days=1)


def review_request_deadline(served_on: date) -> datetime:
    """The end of the 7 days beginning with the day the notice was served (s85ZA(2)), in UTC.

    Served on Mon 1 March 2027 -> a request may be made up to midnight ending Sun 7 March.
    """
    return end_of_day(served_on + timedelta(days=REVIEW_REQUEST_DAYS - 1))


def working_days_before(moment: datetime | str, days: int) -> datetime:
    """The same London wall-clock time on the ``days``-th working day before ``moment``'s day."""
    cal = default_calendar()
    local = aware(moment).astimezone(LONDON)
    day = local.date()
    for _ in range(days):
        day -= timedelta(days=1)
        while not cal.is_working_day(day):
            day -= timedelta(days=1)
    earlier = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=LONDON)
    return earlier.astimezone(UTC)


__all__ = ["add_months", "christmas_day", "clock_hours_after", "closure_hearing_deadline",
           "closure_notice_ends", "end_of_day", "last_day_of_period", "months_after",
           "review_request_deadline", "start_of_day", "working_days_before"]
