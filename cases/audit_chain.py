"""The audit trail's hash chain: row digests, the append-only triggers, verification, re-chaining.

Every ``audit_events`` row carries ``prev_hash`` (the ``row_hash`` of the row before it in id
order, or ``GENESIS`` for the first) and ``row_hash``: SHA-256 over a canonical JSON list of
the row's id, time, actor, action, object, case reference, task name, summary and
``prev_hash``. Changing, removing or re-ordering a row breaks the chain from that row on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, text
from sqlalchemy.orm import Session

GENESIS = "0" * 64
# Taken with pg_advisory_xact_lock by every writer of the chain on PostgreSQL ("ASB audit").
CHAIN_LOCK = 0x41534241

_REFUSE = "audit_events is append-only: {op} refused"
SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER audit_events_no_{op.lower()} BEFORE {op} ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSE.format(op=op)}'); END"
    for op in ("UPDATE", "DELETE"))
SQLITE_DROP = ("DROP TRIGGER IF EXISTS audit_events_no_update",
               "DROP TRIGGER IF EXISTS audit_events_no_delete")
PG_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP "
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
    body = [fields["id"], canonical_at(fields["at"]), fields["actor"], fields["action"],
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

    @property
    def ok(self) -> bool:
        """Tell whether every row checked out."""
        return self.broken_id is None


def _rows(conn: Connection | Session, table: Table | None = None, batch: int = 2000
          ) -> Iterator[dict[str, Any]]:
    """Every audit row in id order, read in keyset batches (typed through the ORM table)."""
    table = table if table is not None else _audit_table()
    last = 0
    while True:
        chunk = conn.execute(table.select().where(table.c.id > last)
                             .order_by(table.c.id).limit(batch)).mappings().all()
        if not chunk:
            return
        yield from (dict(r) for r in chunk)
        last = chunk[-1]["id"]


def _audit_table() -> Table:
    from .audit import AuditEvent

    table: Table = AuditEvent.__table__  # type: ignore[assignment]
    return table


def verify(conn: Connection | Session) -> ChainReport:
    """Walk the chain in id order and report the first row whose link or digest is wrong."""
    return check_rows(_rows(conn))


def check_rows(rows: Iterable[dict[str, Any]]) -> ChainReport:
    """Check already-read rows in id order (see ``verify``)."""
    prev, count = GENESIS, 0
    for row in rows:
        count += 1
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


def rechain(conn: Connection | Session, table: Table | None = None) -> int:
    """Compute every row's ``prev_hash`` and ``row_hash`` again, triggers lifted meanwhile.

    For rows that came in by bulk insert (bench/bulk.py's clones) or the 0012a migration;
    never part of normal work. Runs in the caller's transaction; returns the rows chained.
    """
    drop_triggers(conn)
    prev, count, batch = GENESIS, 0, []
    stmt = text("UPDATE audit_events SET prev_hash = :prev, row_hash = :hash WHERE id = :id")
    for row in _rows(conn, table):
        digest = row_digest(row, prev)
        if row["prev_hash"] != prev or row["row_hash"] != digest:
            batch.append({"prev": prev, "hash": digest, "id": row["id"]})
        prev, count = digest, count + 1
        if len(batch) >= 2000:
            conn.execute(stmt, batch)
            batch = []
    if batch:
        conn.execute(stmt, batch)
    create_triggers(conn)
    return count
