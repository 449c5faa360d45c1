"""Workers' heartbeats: each worker process notes when it last ran, for ``/metrics``.

A worker job (``heartbeat_job``) writes one row per worker process, at most every
``HEARTBEAT_EVERY``, and drops rows of processes silent for a day. ``/metrics`` reads the
newest row, so it covers ``asb worker`` processes on any host.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.base import Base, Timestamp
from engine import clock

HEARTBEAT_EVERY = timedelta(seconds=15)
FORGET_AFTER = timedelta(days=1)
ALIVE_WITHIN = timedelta(minutes=2)


class WorkerHeartbeat(Base):
    """When one worker process (``host:pid``) last ran a batch."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(Timestamp)


def heartbeat_job(name: str | None = None) -> Callable[[Session], int]:
    """A worker job that records this process's heartbeat; it reports no work done."""
    me = name or f"{socket.gethostname()}:{os.getpid()}"
    written: list[datetime] = []

    def heartbeat(session: Session) -> int:
        now = clock.now()
        if written and timedelta(0) <= now - written[-1] < HEARTBEAT_EVERY:
            return 0
        row = session.get(WorkerHeartbeat, me)
        if row is None:
            session.add(WorkerHeartbeat(name=me, last_run_at=now))
        else:
            row.last_run_at = now
        session.execute(delete(WorkerHeartbeat).where(
            WorkerHeartbeat.last_run_at < now - FORGET_AFTER, WorkerHeartbeat.name != me))
        session.flush()
        written[:] = [now]
        return 0

    return heartbeat


def worker_state(session: Session, now: datetime) -> tuple[float | None, int]:
    """Seconds since any worker last ran (None: never), and workers seen within two minutes."""
    newest = session.scalar(select(func.max(WorkerHeartbeat.last_run_at)))
    alive = session.scalar(select(func.count()).select_from(WorkerHeartbeat).where(
        WorkerHeartbeat.last_run_at >= now - ALIVE_WITHIN)) or 0
    age = None if newest is None else max((now - newest).total_seconds(), 0.0)
    return age, alive
