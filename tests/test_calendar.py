"""The business calendar: England's working days and "within N working days" deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import (
    BusinessCalendar,
    default_calendar,
    due_after_working_days,
    parse_close_of_business,
)

LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def cal() -> BusinessCalendar:
    return BusinessCalendar()


# The examples in DOMAIN.md, "Working-day deadlines".

def test_christmas_eve_one_day_skips_christmas_and_boxing_day_substitute(cal):
    due = cal.due_after_working_days(london(2026, 12, 24, 10, 0), 1)
    assert due == london(2026, 12, 29, 17, 0)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)  # GMT in winter


def test_23_december_five_days_crosses_new_year(cal):
    assert cal.due_after_working_days(london(2026, 12, 23, 9, 0), 5) == london(2027, 1, 4, 17)


def test_good_friday_2026_one_day_skips_easter_monday_in_summer_time(cal):
    due = cal.due_after_working_days(london(2026, 4, 3, 11, 0), 1)
    assert due == london(2026, 4, 7, 17, 0)
    assert due == datetime(2026, 4, 7, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("hour", [0, 9, 23])
def test_saturday_one_day_is_monday(cal, hour):
    assert cal.due_after_working_days(london(2026, 11, 21, hour, 0), 1) == london(2026, 11, 23, 17)


def test_saturday_before_a_bank_holiday_monday_is_tuesday(cal):
    assert cal.due_after_working_days(london(2026, 8, 29, 12), 1) == london(2026, 9, 1, 17)


def test_day_of_receipt_never_counts_whatever_the_hour(cal):
    early = cal.due_after_working_days(london(2026, 11, 23, 0, 1), 1)
    late = cal.due_after_working_days(london(2026, 11, 23, 23, 59), 1)
    assert early == late == london(2026, 11, 24, 17)


def test_received_after_close_of_business_still_counts_from_that_day(cal):
    assert cal.due_after_working_days(london(2026, 11, 23, 18, 30), 1) == london(2026, 11, 24, 17)


def test_2330_utc_in_summer_is_the_next_london_day(cal):
    received = datetime(2026, 7, 2, 23, 30, tzinfo=UTC)  # Fri 3 Jul 00:30 BST
    assert cal.local_date(received) == date(2026, 7, 3)
    assert cal.due_after_working_days(received, 1) == london(2026, 7, 6, 17)


def test_2330_utc_in_winter_is_still_the_same_london_day(cal):
    received = datetime(2026, 1, 8, 23, 30, tzinfo=UTC)  # Thu 8 Jan 23:30 GMT
    assert cal.due_after_working_days(received, 1) == london(2026, 1, 9, 17)


def test_other_offsets_are_converted_to_london(cal):
    received = datetime(2026, 7, 3, 1, 0, tzinfo=timezone(timedelta(hours=3)))  # Thu 23:00 BST
    assert cal.due_after_working_days(received, 1) == london(2026, 7, 3, 17)


def test_deadline_across_the_clocks_going_forward_uses_summer_time(cal):
    due = cal.due_after_working_days(london(2026, 3, 27, 10), 1)  # Fri; clocks change Sun 29
    assert due == datetime(2026, 3, 30, 16, 0, tzinfo=UTC)


def test_deadline_across_the_clocks_going_back_uses_winter_time(cal):
    due = cal.due_after_working_days(london(2026, 10, 23, 10), 1)  # Fri; clocks change Sun 25
    assert due == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)


def test_coronation_bank_holiday_2023_is_skipped(cal):
    assert not cal.is_working_day(date(2023, 5, 8))
    assert cal.due_after_working_days(london(2023, 5, 5, 10), 1) == london(2023, 5, 9, 17)


def test_easter_2027(cal):
    assert not cal.is_working_day(date(2027, 3, 26))
    assert not cal.is_working_day(date(2027, 3, 29))
    assert cal.due_after_working_days(london(2027, 3, 25, 14), 1) == london(2027, 3, 30, 17)
    assert cal.due_after_working_days(london(2027, 3, 26, 9), 5) == london(2027, 4, 5, 17)


def test_easter_2026_five_days(cal):
    assert cal.due_after_working_days(london(2026, 4, 2, 9), 5) == london(2026, 4, 13, 17)


def test_christmas_2027_double_substitute_days(cal):
    # 25 and 26 Dec 2027 fall at the weekend: 27 and 28 Dec are the substitute days.
    assert not cal.is_working_day(date(2027, 12, 27))
    assert not cal.is_working_day(date(2027, 12, 28))
    assert cal.due_after_working_days(london(2027, 12, 24, 10), 1) == london(2027, 12, 29, 17)


# n = 0, configurable close of business, the module-level function.

def test_n_zero_on_a_working_day_is_that_day(cal):
    assert cal.due_after_working_days(london(2026, 11, 23, 9), 0) == london(2026, 11, 23, 17)


def test_n_zero_on_a_holiday_is_the_next_working_day(cal):
    assert cal.due_after_working_days(london(2026, 12, 25, 9), 0) == london(2026, 12, 29, 17)
    assert cal.due_after_working_days(london(2026, 11, 21, 9), 0) == london(2026, 11, 23, 17)


def test_configurable_close_of_business():
    cal = BusinessCalendar(close_of_business=time(16, 30))
    assert cal.due_after_working_days(london(2026, 12, 24, 10), 1) == london(2026, 12, 29, 16, 30)
    assert BusinessCalendar("16:30").close_of_business == time(16, 30)


def test_module_function_uses_the_default_and_an_override():
    received = london(2026, 12, 23, 9)
    assert due_after_working_days(received, 5) == london(2027, 1, 4, 17)
    at_half_four = due_after_working_days(received, 5, close_of_business="16:30")
    assert at_half_four == london(2027, 1, 4, 16, 30)
    assert due_after_working_days(received, 5, time(12, 0)) == london(2027, 1, 4, 12)
    assert default_calendar().close_of_business == time(17, 0)


def test_iso_strings_with_and_without_offset():
    assert due_after_working_days("2026-07-02T23:30:00Z", 1) == london(2026, 7, 6, 17)
    assert due_after_working_days("2026-07-02T23:30:00+00:00", 1) == london(2026, 7, 6, 17)
    # Without an offset the time is read as Europe/London: still Thursday.
    assert due_after_working_days("2026-07-02T23:30:00", 1) == london(2026, 7, 3, 17)


# Bad input.

def test_naive_datetime_is_refused(cal):
    with pytest.raises(ValueError, match="naive"):
        cal.due_after_working_days(datetime(2026, 11, 23, 10, 0), 1)


@pytest.mark.parametrize("n", [-1, 1.5, "1", None, True])
def test_bad_number_of_days_is_refused(cal, n):
    with pytest.raises(ValueError, match="working days"):
        cal.due_after_working_days(london(2026, 11, 23, 10), n)


@pytest.mark.parametrize("value", ["not a date", "", 20261123, date(2026, 11, 23)])
def test_bad_received_at_is_refused(cal, value):
    with pytest.raises(ValueError, match="ISO 8601|datetime"):
        cal.due_after_working_days(value, 1)


@pytest.mark.parametrize("value", ["25:00", "5pm", "17", time(17, 0, tzinfo=UTC), 17])
def test_bad_close_of_business_is_refused(value):
    with pytest.raises(ValueError, match="close of business"):
        parse_close_of_business(value)


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        BusinessCalendar(tz="Europe/Chesterfield")


def test_is_working_day_wants_a_date(cal):
    with pytest.raises(TypeError):
        cal.is_working_day(london(2026, 11, 23, 10))


# Working days, counting, lateness.

def test_is_working_day_and_next_working_day(cal):
    assert cal.is_working_day(date(2026, 11, 23))
    assert not cal.is_working_day(date(2026, 11, 22))
    assert not cal.is_working_day(date(2026, 12, 28))
    assert cal.next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)
    assert cal.next_working_day(date(2026, 12, 31)) == date(2027, 1, 4)


def test_working_days_between(cal):
    assert cal.working_days_between(london(2026, 12, 24, 10), london(2026, 12, 29, 9)) == 1
    assert cal.working_days_between(london(2026, 12, 23, 10), london(2027, 1, 4, 17)) == 5
    assert cal.working_days_between(london(2026, 11, 23, 9), london(2026, 11, 23, 18)) == 0
    assert cal.working_days_between(london(2026, 11, 24, 9), london(2026, 11, 23, 18)) == 0
    assert cal.working_days_between(london(2026, 4, 2, 9), london(2026, 4, 13, 9)) == 5


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20, 25, 60, 300])
@pytest.mark.parametrize(
    "received", [london(2026, 12, 20, 8), london(2027, 3, 24, 12), london(2023, 4, 28, 9)]
)
def test_working_days_between_agrees_with_due_after(cal, n, received):
    due = cal.due_after_working_days(received, n)
    assert cal.working_days_between(received, due) == n
    assert cal.working_days_between(received, due - timedelta(days=1)) == n - 1


def test_is_late(cal):
    due = cal.due_after_working_days(london(2026, 11, 23, 9), 1)
    assert not cal.is_late(due, due)
    assert not cal.is_late(due, due - timedelta(minutes=1))
    assert cal.is_late(due, due + timedelta(seconds=1))
    assert cal.is_late(due, "2026-11-24T17:00:01+00:00")
    with pytest.raises(ValueError, match="naive"):
        cal.is_late(due, datetime(2026, 11, 24, 18, 0))
