"""The product clock, and SpiffWorkflow's timers following it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions import timer

from engine import clock


def test_frozen_clock_moves_only_when_told():
    moment = datetime(2026, 4, 3, 9, 30, tzinfo=UTC)
    clock.set_now(moment)
    assert clock.now() == moment
    assert clock.advance(timedelta(hours=2)) == moment + timedelta(hours=2)


def test_running_clock_keeps_ticking_from_the_time_set():
    clock.set_now(datetime(2030, 1, 1, tzinfo=UTC), frozen=False)
    first = clock.now()
    assert first.year == 2030
    assert clock.now() >= first


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="aware"):
        clock.set_now(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_spiff_timer_module_reads_the_product_clock():
    clock.install_spiff_clock()
    clock.set_now(datetime(2031, 5, 6, 7, 8, tzinfo=UTC))
    assert timer.datetime.now(UTC) == datetime(2031, 5, 6, 7, 8, tzinfo=UTC)
    # Parsing still works as before through the replaced name.
    assert timer.TimerEventDefinition.get_datetime("2031-05-06T07:08:00+01:00") == datetime(
        2031, 5, 6, 6, 8, tzinfo=UTC)
