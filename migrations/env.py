"""Alembic environment: runs against the engine given by ``migrations.runner`` or DATABASE_URL."""

from __future__ import annotations

from alembic import context

from engine.database import default_url, make_engine
from migrations.runner import metadatas

config = context.config
target_metadata = metadatas()


def run_migrations_offline() -> None:
    context.configure(url=default_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(default_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
