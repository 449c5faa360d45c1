"""Shared fixtures: databases (SQLite file and a real PostgreSQL server), sessions, the clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from engine import clock
from engine.database import make_engine, make_session_factory
from tests.pg_server import PostgresServer


def _create_schema(engine: Engine) -> None:
    from migrations.runner import upgrade

    upgrade(engine)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session (or the one named by ASB_TEST_PG_URL)."""
    if os.environ.get("ASB_TEST_PG_URL"):
        server = PostgresServer.__new__(PostgresServer)
        server.url = os.environ["ASB_TEST_PG_URL"]
        yield server
        return
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = Path(tmp_path_factory.mktemp("db")) / "asb.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    _create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_server: PostgresServer) -> Iterator[Engine]:
    engine = make_engine(pg_server.url, pool_size=30, max_overflow=10)
    _create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_engine(request: pytest.FixtureRequest) -> Engine:
    """The same test on the embedded default and on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test."""
    connection = db_engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def session_factory(db_engine: Engine):
    """A real session factory for tests that need several transactions (cleaned by the test)."""
    return make_session_factory(db_engine)


@pytest.fixture(autouse=True)
def _product_clock() -> Iterator[None]:
    """Every test starts on the system time and leaves the clock as it found it."""
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on 127.0.0.1: yields its mailbox and port."""
    from aiosmtpd.controller import Controller

    from tests.test_notify import MailBox, free_port

    box, port = MailBox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
