"""The worker: claims instances with due timers or retries and wakes each exactly once.

Each batch is one transaction. On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several
workers share the queue without waiting on each other; a worker that dies mid-batch has
committed nothing, its locks vanish with its connection, and another worker takes the rows.
On SQLite (the embedded default) one worker thread runs inside the web process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from .database import unit_of_work
from .runtime import CaseEngine

log = logging.getLogger(__name__)


class Worker:
    """Wakes due process instances in batches."""

    def __init__(self, engine: CaseEngine, factory: sessionmaker[Session], *, batch: int = 20,
                 poll_seconds: float = 1.0, name: str = "worker",
                 jobs: Sequence[Callable[[Session], int]] = ()):
        self.engine = engine
        self.jobs = list(jobs)  # other queues, e.g. the outbox; each returns work done
        self.factory = factory
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.name = name
        self._stop = threading.Event()

    def run_once(self) -> int:
        """Process one batch of each queue, one transaction each; return the work done."""
        woken, other = self._batch()
        return woken + other

    def _batch(self) -> tuple[int, int]:
        """One batch: the instances woken, and the other jobs' work (outbox, audit seals...)."""
        with unit_of_work(self.factory) as session:
            woken = len(self.engine.fire_due_timers(session, limit=self.batch, actor=self.name))
        other = 0
        for job in self.jobs:
            with unit_of_work(self.factory) as session:
                other += job(session)
        return woken, other

    def drain(self, max_batches: int = 10_000) -> int:
        """Process batches until nothing is due; return the number of instances woken."""
        total = 0
        for _ in range(max_batches):
            woken, other = self._batch()
            total += woken
            if woken + other == 0:
                break
        return total

    def run_forever(self) -> None:
        """Poll until ``stop()`` is called."""
        log.info("%s started", self.name)
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("%s: batch failed; retrying after a pause", self.name)
                busy = 0
            if not busy:
                self._stop.wait(self.poll_seconds)
        log.info("%s stopped", self.name)

    def stop(self) -> None:
        """Ask ``run_forever`` to return after the current batch."""
        self._stop.set()

    def start_thread(self) -> threading.Thread:
        """Run the worker in a daemon thread (the embedded default's in-process worker)."""
        thread = threading.Thread(target=self.run_forever, name=self.name, daemon=True)
        thread.start()
        return thread
