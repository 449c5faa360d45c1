"""audit_events: a hash chain sealed by the worker (chain_seq, prev_hash, row_hash), append-only

Revision ID: 0012a
Revises: 0011
Create Date: 2026-11-24

Rows written before this revision are sealed by the worker like any new row.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cases.audit_chain import create_triggers, drop_triggers

revision = "0012a"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_audit_events_chain_seq", ["chain_seq"])
        batch_op.create_index("ix_audit_events_actor", ["actor", "at"], unique=False)
    create_triggers(op.get_bind())  # after batch mode, which copies the table on SQLite


def downgrade() -> None:
    drop_triggers(op.get_bind())
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_actor")
        batch_op.drop_constraint("uq_audit_events_chain_seq", type_="unique")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("chain_seq")
