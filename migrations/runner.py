"""Create or migrate the schema (``asb init-db``), safe to run twice."""

from __future__ import annotations

import importlib
from pathlib import Path

from sqlalchemy import Engine, MetaData

# Every module that declares tables; imported so that their metadata is complete.
MODEL_MODULES = (
    "engine.models",
    "engine.migration",
    "cases.people",
    "cases.staff",
    "cases.config",
    "cases.audit",
    "cases.records",
    "cases.outbox",
    "cases.drafts",
    "cases.evidence",
    "cases.evidence_requests",
    "cases.support",
    "cases.challenge",
    "cases.legal",
    "cases.legal_court",
    "cases.reporter_access",
    "cases.partner_access",
    "tasks.virus_scan",
    "cases.retention",
    "web.heartbeat",
)


def metadatas() -> list[MetaData]:
    """Return the metadata of the engine's and the case domain's tables."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    from cases.base import Base
    from engine.db import EngineBase

    return [EngineBase.metadata, Base.metadata]


def upgrade(engine: Engine) -> None:
    """Bring the database at ``engine`` to the newest schema."""
    versions = Path(__file__).parent / "versions"
    if not [p for p in versions.glob("*.py") if not p.name.startswith("__")]:
        for md in metadatas():
            md.create_all(engine)
        return
    from alembic import command

    command.upgrade(_config(engine), "heads")


def _config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.attributes["engine"] = engine
    return cfg
