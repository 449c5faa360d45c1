"""``asb db upgrade`` and ``asb db current``: the schema's migrations, run by a command."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from engine.database import default_url, make_engine

from .schema_state import schema_state

# One PostgreSQL advisory lock key for "migrating the ASB schema" (any fixed 64-bit number).
MIGRATION_LOCK = 0x41_53_42_5F_4D_49_47  # "ASB_MIG"


def _fail(message: str) -> NoReturn:
    click.echo(f"asb: {message}", err=True)
    sys.exit(1)


def upgrade_locked(engine: Engine) -> None:
    """Migrate to head; on PostgreSQL only one process at a time (the others wait, then find
    nothing to do). On SQLite the write lock every transaction takes does the same."""
    from migrations.runner import upgrade

    if engine.dialect.name != "postgresql":
        upgrade(engine)
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        lock.commit()  # a session-level lock: it lasts until unlocked, not to the commit
        try:
            upgrade(engine)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            lock.commit()


@click.group("db")
def db() -> None:
    """The database schema: migrate it, or show where it stands."""


@db.command("upgrade")
def upgrade_command() -> None:
    """Run every migration up to head (safe to run from several processes at once)."""
    engine = make_engine(default_url())
    try:
        upgrade_locked(engine)
        with engine.connect() as connection:
            state = schema_state(connection)
    except SQLAlchemyError as exc:
        _fail(f"database error: {getattr(exc, 'orig', None) or exc}")
    finally:
        engine.dispose()
    click.echo(f"schema at head: {', '.join(state.current)}")


@db.command("current")
def current_command() -> None:
    """Print the schema's revision and whether it is at head; exit 1 when it is not."""
    engine = make_engine(default_url())
    try:
        with engine.connect() as connection:
            state = schema_state(connection)
    except SQLAlchemyError as exc:
        _fail(f"database error: {getattr(exc, 'orig', None) or exc}")
    finally:
        engine.dispose()
    current = ", ".join(state.current) or "none (empty database)"
    if state.at_head:
        click.echo(f"{current} (head)")
        return
    click.echo(f"{current} (not at head, which is {', '.join(state.heads)}; run 'asb db upgrade')")
    sys.exit(1)
