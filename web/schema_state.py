"""Where the database schema stands against the migrations shipped with this code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@dataclass(frozen=True)
class SchemaState:
    """The revisions the database is at, and the heads this code expects."""

    current: tuple[str, ...]
    heads: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        """True when the database is exactly at every head revision."""
        return bool(self.current) and set(self.current) == set(self.heads)


@cache
def head_revisions() -> tuple[str, ...]:
    """The head revisions of the shipped migrations (read once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def schema_state(connection: Connection) -> SchemaState:
    """Read the database's revisions through ``connection`` (raises SQLAlchemyError if down)."""
    current = MigrationContext.configure(connection).get_current_heads()
    return SchemaState(tuple(sorted(current)), head_revisions())
