"""audit_events: hash chain (prev_hash, row_hash) over every row, append-only triggers

Revision ID: 0012a
Revises: 0011
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base
from cases.audit_chain import create_triggers, drop_triggers, rechain

revision = "0012a"
down_revision = "0011"
branch_labels = None
depends_on = None

# The table as this revision knows it (typed like the model, so digests match the app's).
_AUDIT = sa.Table(
    "audit_events", sa.MetaData(),
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("at", cases.base.Timestamp(timezone=True)),
    sa.Column("actor", sa.String(100)),
    sa.Column("action", sa.String(100)),
    sa.Column("object_type", sa.String(50)),
    sa.Column("object_id", sa.String(100)),
    sa.Column("case_reference", sa.String(100)),
    sa.Column("task_name", sa.String(200)),
    sa.Column("summary", sa.JSON()),
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("row_hash", sa.String(64)),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_audit_events_actor", ["actor", "at"], unique=False)
    bind = op.get_bind()
    rechain(bind, _AUDIT)  # drops and re-creates the triggers around the updates
    drop_triggers(bind)  # batch mode on SQLite copies the table: add them after
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
    create_triggers(bind)


def downgrade() -> None:
    drop_triggers(op.get_bind())
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_actor")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")

