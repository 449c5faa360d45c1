"""task_drafts: officers' saved, unvalidated task form values

Revision ID: 0004a
Revises: 0003
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0004a"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_drafts")),
        sa.UniqueConstraint("task_id", "user_name", name=op.f("uq_task_drafts_task_id")),
    )
    with op.batch_alter_table("task_drafts") as batch_op:
        batch_op.create_index(batch_op.f("ix_task_drafts_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_drafts") as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_drafts_task_id"))
    op.drop_table("task_drafts")
