"""Files in the store that no evidence record names: found by ``asb check``, removed by the worker.

An upload writes its file first and records it in the same request; a process killed between
the two (or a disposal whose transaction failed after the file went) leaves a file nobody can
reach. Such a stray is only taken for one when it is older than ``STRAY_AGE``, far longer than
any upload's request, so a file whose record is about to be committed is never touched.

A guard stops the sweep when the store and the database look unrelated (a worker pointed at
another installation's files, or at an empty database restored by mistake): if more strays
are found than files with records, and more than ``GUARD_MINIMUM``, nothing is removed and
the worker logs a warning instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.evidence import EvidenceItem

from .files import FileStore, ListedFile

log = logging.getLogger(__name__)

STRAY_AGE = timedelta(days=1)
GUARD_MINIMUM = 100
_CHUNK = 500


@dataclass
class StrayReport:
    """What one look through the store found."""

    listed: int = 0  # every file in the store
    recorded: int = 0  # of those, the ones an evidence record names
    strays: list[str] = field(default_factory=list)  # no record, and older than the age
    recent: int = 0  # no record (yet), but too young to call a stray

    @property
    def looks_unrelated(self) -> bool:
        """True when the store and the database seem not to belong together."""
        return len(self.strays) > max(GUARD_MINIMUM, self.recorded)


def _chunks(listing: Iterator[ListedFile]) -> Iterator[list[ListedFile]]:
    while chunk := list(islice(listing, _CHUNK)):
        yield chunk


def find_strays(session: Session, store: FileStore, now: datetime,
                age: timedelta = STRAY_AGE) -> StrayReport:
    """Compare the store's listing with the evidence records, a chunk of names at a time."""
    report, cutoff = StrayReport(), now - age
    for chunk in _chunks(store.listing()):
        names = [entry.name for entry in chunk]
        known = set(session.scalars(select(EvidenceItem.stored_name)
                                    .where(EvidenceItem.stored_name.in_(names))))
        report.listed += len(chunk)
        report.recorded += len(known)
        for entry in chunk:
            if entry.name in known:
                continue
            if entry.modified <= cutoff:
                report.strays.append(entry.name)
            else:
                report.recent += 1
    report.strays.sort()
    return report


def sweep_strays(session: Session, store: FileStore, now: datetime,
                 age: timedelta = STRAY_AGE) -> int:
    """Remove the strays ``find_strays`` reports; how many went (0 when the guard stops it)."""
    report = find_strays(session, store, now, age)
    if report.looks_unrelated:
        log.warning("file sweep stopped: %d files without a record against %d with one; is "
                    "this worker's file store the one of its database?",
                    len(report.strays), report.recorded)
        return 0
    for name in report.strays:
        store.remove_listed(name)
    if report.strays:
        log.info("file sweep removed %d file(s) without a record", len(report.strays))
    return len(report.strays)
