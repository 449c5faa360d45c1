"""retention_holds, case_disposals: legal holds and the record of anonymised cases

Revision ID: 0012p
Revises: 0011
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0012p"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("cleared_by", sa.String(length=64), nullable=True),
        sa.Column("cleared_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("clear_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_retention_holds_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_holds")),
    )
    with op.batch_alter_table("retention_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_holds_case_id"), ["case_id"],
                              unique=False)
    op.create_table(
        "case_disposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("disposed_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("disposed_by", sa.String(length=64), nullable=False),
        sa.Column("retention_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_case_disposals_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_disposals")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_disposals_case_id")),
    )


def downgrade() -> None:
    op.drop_table("case_disposals")
    with op.batch_alter_table("retention_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_holds_case_id"))
    op.drop_table("retention_holds")
