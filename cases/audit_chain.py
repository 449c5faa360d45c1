"""The audit trail's hash chain: row digests, sealing, the append-only triggers, verification.

A row is written plainly (``record``: no lock, so audited work never queues behind other
audited work), then **sealed** by the worker (``seal``, every tick, one sealer at a time):
it gets the next ``chain_seq``, ``prev_hash`` (the ``row_hash`` of the row sealed before it,
or ``GENESIS`` for the first) and ``row_hash``: SHA-256 over a canonical JSON list of the
row's id, chain position, time, actor, action, object, case reference, task name, summary and
``prev_hash``. The chain runs in sealing order, which is commit order give or take a tick, so
a transaction that commits late is sealed late and never forks it. Changing, removing or
re-ordering a sealed row breaks the chain from that row on; the triggers refuse every UPDATE
but the one that seals a row (its other columns unchanged), and every DELETE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.orm import Session

GENESIS = "0" * 64
# Taken with pg_advisory_xact_lock by every writer of the chain on PostgreSQL ("ASB audit").
CHAIN_LOCK = 0x41534241

_REFUSE = "audit_events is append-only: {op} refused"
# The columns a seal must leave as they were.
_KEPT = ("id", "at", "actor", "action", "object_type", "object_id", "case_reference",
         "task_name")
SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events WHEN "
    "OLD.chain_seq IS NOT NULL OR NEW.chain_seq IS NULL OR "
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in (*_KEPT, "summary"))
    + f" BEGIN SELECT RAISE(ABORT, '{_REFUSE.format(op='UPDATE')}'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSE.format(op='DELETE')}'); END",
)
SQLITE_DROP = ("DROP TRIGGER IF EXISTS audit_events_no_update",
               "DROP TRIGGER IF EXISTS audit_events_no_delete")
PG_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL AND "
    + " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _KEPT)
    + " AND NEW.summary::text IS NOT DISTINCT FROM OLD.summary::text THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP "
    "USING ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse()",
)
PG_DROP = ("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
           "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
           "DROP FUNCTION IF EXISTS audit_events_refuse()")


def canonical_at(at: datetime) -> str:
    """The time as the chain hashes it: UTC, ISO 8601 with microseconds."""
    if at.tzinfo is None:  # read back naive from SQLite by a raw query: it was stored as UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def normalise_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as it reads back from the JSON column (tuples as lists, keys as text)."""
    value: dict[str, Any] = json.loads(json.dumps(summary))
    return value


def row_digest(fields: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 (hex) of one row's fields and the previous row's hash."""
    summary = fields.get("summary")
    if isinstance(summary, str):  # a raw query on SQLite returns the JSON text
        summary = json.loads(summary)
    body = [fields["id"], fields["chain_seq"], canonical_at(fields["at"]), fields["actor"],
            fields["action"],
            fields["object_type"], fields["object_id"], fields["case_reference"],
            fields["task_name"], summary if summary is not None else {}, prev_hash]
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """What walking the chain found: how many rows, the head, and the first break if any."""

    rows: int
    head: str
    broken_id: int | None = None
    reason: str = ""
    unsealed: int = 0  # written, not yet sealed by the worker (not a break)

    @property
    def ok(self) -> bool:
        """Tell whether every row checked out."""
        return self.broken_id is None


def _rows(conn: Connection | Session, table: Table | None = None, batch: int = 2000
          ) -> Iterator[dict[str, Any]]:
    """Every sealed audit row in chain order, read in keyset batches (typed by the ORM)."""
    table = table if table is not None else _audit_table()
    last = 0
    while True:
        chunk = conn.execute(table.select().where(table.c.chain_seq > last)
                             .order_by(table.c.chain_seq).limit(batch)).mappings().all()
        if not chunk:
            return
        yield from (dict(r) for r in chunk)
        last = chunk[-1]["chain_seq"]


def _audit_table() -> Table:
    from .audit import AuditEvent

    table: Table = AuditEvent.__table__  # type: ignore[assignment]
    return table


def verify(conn: Connection | Session) -> ChainReport:
    """Walk the chain in order and report the first row whose place, link or digest is wrong."""
    table = _audit_table()
    report = check_rows(_rows(conn, table))
    unsealed = conn.execute(select(func.count()).select_from(table).where(
        table.c.chain_seq.is_(None))).scalar_one()
    return replace(report, unsealed=int(unsealed))


def check_rows(rows: Iterable[dict[str, Any]]) -> ChainReport:
    """Check already-read sealed rows in chain order (see ``verify``)."""
    prev, count = GENESIS, 0
    for row in rows:
        count += 1
        if row["chain_seq"] != count:
            return ChainReport(count, prev, row["id"],
                               f"chain position {row['chain_seq']} where {count} was due "
                               "(a sealed row was removed)")
        if row["prev_hash"] != prev:
            return ChainReport(count, prev, row["id"],
                               "prev_hash does not match the row before it (a row was "
                               "removed, inserted or re-ordered)")
        if row["row_hash"] != row_digest(row, prev):
            return ChainReport(count, prev, row["id"],
                               "row_hash does not match the row's contents (it was changed)")
        prev = row["row_hash"]
    return ChainReport(count, prev)


def drop_triggers(conn: Connection | Session) -> None:
    """Remove the append-only triggers (maintenance only: ``rechain`` and the migration)."""
    sqlite = _dialect(conn) == "sqlite"
    for ddl in SQLITE_DROP if sqlite else PG_DROP:
        conn.execute(text(ddl))


def create_triggers(conn: Connection | Session) -> None:
    """Add the triggers that refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL)."""
    sqlite = _dialect(conn) == "sqlite"
    for ddl in SQLITE_TRIGGERS if sqlite else PG_TRIGGERS:
        conn.execute(text(ddl))


def _dialect(conn: Connection | Session) -> str:
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    return bind.dialect.name


def seal(conn: Connection | Session, limit: int = 5000) -> int:
    """Seal up to ``limit`` written rows onto the chain, oldest id first; return how many.

    One sealer at a time: on PostgreSQL a transaction-level advisory lock, tried without
    waiting (another worker sealing now means nothing to do here); SQLite writers hold the
    database's write lock already. Runs in the caller's transaction.
    """
    if _dialect(conn) == "postgresql" and not conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK}).scalar():
        return 0
    table = _audit_table()
    head = conn.execute(select(table.c.chain_seq, table.c.row_hash)
                        .where(table.c.chain_seq.is_not(None))
                        .order_by(table.c.chain_seq.desc()).limit(1)).first()
    seq, prev = (int(head[0]), str(head[1])) if head is not None else (0, GENESIS)
    rows = conn.execute(table.select().where(table.c.chain_seq.is_(None))
                        .order_by(table.c.id).limit(limit)).mappings().all()
    sealed = []
    for row in rows:
        seq += 1
        digest = row_digest({**row, "chain_seq": seq}, prev)
        sealed.append({"seq": seq, "prev": prev, "hash": digest, "id": row["id"]})
        prev = digest
    if sealed:
        conn.execute(text("UPDATE audit_events SET chain_seq = :seq, prev_hash = :prev, "
                          "row_hash = :hash WHERE id = :id AND chain_seq IS NULL"), sealed)
    return len(sealed)


def rechain(conn: Connection | Session) -> int:
    """Seal every row again from the start, triggers lifted meanwhile; return the rows sealed.

    For rows that came in by bulk insert with copied chain columns (bench/bulk.py's clones);
    never part of normal work. Runs in the caller's transaction.
    """
    drop_triggers(conn)
    conn.execute(text("UPDATE audit_events SET chain_seq = NULL, prev_hash = NULL, "
                      "row_hash = NULL"))
    total = 0
    while done := seal(conn):
        total += done
    create_triggers(conn)
    return total
