"""Database, engine and worker wiring for the Flask app (``init_app`` style)."""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session

from engine.database import default_url, is_sqlite, make_engine, make_session_factory, unit_of_work
from engine.runtime import CaseEngine
from engine.worker import Worker
from tasks.files import file_store_from
from tasks.wiring import build_engine, worker_jobs

from .heartbeat import heartbeat_job


def init_app(app: Flask) -> None:
    """Attach the database, the case engine and (on SQLite) the in-process worker."""
    url = app.config.get("DATABASE_URL") or default_url(app.instance_path)
    db = make_engine(url)
    factory = make_session_factory(db)
    engine = build_engine()
    app.extensions["asb"] = {"db": db, "sessions": factory, "engine": engine}
    start = app.config.get("START_WORKER")
    if start is None:
        start = is_sqlite(db)
    if start:
        store = file_store_from(app.config, Path(app.instance_path) / "files")
        worker = Worker(engine, factory, name="web-worker",
                        jobs=[*worker_jobs(os.environ, store), heartbeat_job()])
        worker.start_thread()
        atexit.register(worker.stop)
        app.extensions["asb"]["worker"] = worker
    app.after_request(_commit_request_session)
    app.teardown_request(_end_request_session)


def db() -> Session:
    """The request's one database session; committed at the end, or rolled back on error."""
    if "db" not in g:
        g.db = current_app.extensions["asb"]["sessions"]()
    session: Session = g.db
    return session


def _commit_request_session(response: Response) -> Response:
    """Commit before the answer is final, so a commit that fails can still change it.

    A commit that meets a lost connection raises here; Flask then answers through the error
    handlers (503, nothing saved) instead of sending a success for work that was not stored.
    """
    session: Session | None = g.get("db")
    if session is not None and not g.get("rollback_only"):
        session.commit()
    return response


def _end_request_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db", None)
    if session is None:
        return
    try:
        if exc is None and not g.get("rollback_only"):
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def rollback_only() -> None:
    """Mark the request's work to be rolled back (a refused request changes nothing)."""
    g.rollback_only = True


def case_engine() -> CaseEngine:
    """Return the app's case engine."""
    engine: CaseEngine = current_app.extensions["asb"]["engine"]
    return engine


@contextmanager
def unit() -> Iterator[Session]:
    """One unit of work for a request: commit on success, roll back on any error."""
    with unit_of_work(current_app.extensions["asb"]["sessions"]) as session:
        yield session
