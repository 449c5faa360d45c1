"""The dashboard's figures as at a moment, worked out once and shown to managers for a while.

Every figure counts open cases or a period's cases, so working them all out grows with the
council's cases (~60 ms of SQL at 100,000 cases, under 2 ms at 1,000: docs/bench.md). A
manager does not need them to the second: each web process keeps the figures of each choice
of filters for ``ASB_DASHBOARD_MAX_AGE_SECONDS`` (default 300) by the product clock, the page
says "as at" when they were worked out, and "Work them out again" (a POST, audited) drops
them at once. The CSV export and the lists of cases behind a figure are always read live.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from cases.figures import Filters

from .tables import Table

DEFAULT_MAX_AGE_SECONDS = 300
KEPT = 64  # choices of filters remembered per process; the oldest goes first
Sections = list[tuple[str, list[Table]]]


@dataclass(frozen=True)
class Snapshot:
    """The dashboard's sections and when they were worked out."""

    sections: Sections
    at: datetime


class FigureCache:
    """Snapshots by choice of filters, each kept until it is ``max_age`` old."""

    def __init__(self, max_age: timedelta) -> None:
        self.max_age = max_age
        self._kept: OrderedDict[tuple[tuple[str, str], ...], Snapshot] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(filters: Filters) -> tuple[tuple[str, str], ...]:
        """What identifies a choice of filters (the period, area and team, never "now")."""
        return tuple(sorted(filters.args().items()))

    def fresh(self, filters: Filters) -> Snapshot | None:
        """The snapshot for ``filters`` if it is younger than ``max_age`` at ``filters.now``."""
        with self._lock:
            found = self._kept.get(self.key(filters))
        if found is None:
            return None
        age = filters.now - found.at
        return found if timedelta(0) <= age < self.max_age else None

    def keep(self, filters: Filters, sections: Sections) -> Snapshot:
        """Remember ``sections`` as the figures for ``filters`` at ``filters.now``."""
        snapshot = Snapshot(sections, filters.now)
        with self._lock:
            self._kept[self.key(filters)] = snapshot
            self._kept.move_to_end(self.key(filters))
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return snapshot

    def clear(self) -> None:
        """Forget every snapshot (the scale benchmark times the figures worked out afresh)."""
        with self._lock:
            self._kept.clear()

    def drop(self, filters: Filters) -> None:
        """Forget the figures for ``filters`` so the next view works them out again."""
        with self._lock:
            self._kept.pop(self.key(filters), None)


def figure_cache() -> FigureCache:
    """This app's cache (one per app, so tests and processes never share one)."""
    extensions: dict[str, Any] = current_app.extensions["asb"]
    cache = extensions.get("dashboard_cache")
    if cache is None:
        seconds = int(current_app.config.get("ASB_DASHBOARD_MAX_AGE_SECONDS",
                                             DEFAULT_MAX_AGE_SECONDS))
        cache = extensions.setdefault("dashboard_cache", FigureCache(timedelta(seconds=seconds)))
    return cache
