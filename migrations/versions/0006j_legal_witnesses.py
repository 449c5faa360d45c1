"""legal_witnesses: the witnesses of a legal action and how each was prepared for court

Revision ID: 0006j
Revises: 0006l
Create Date: 2026-11-23

legal_witnesses refers to legal_actions, so it comes after 0006l.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0006j"
down_revision = "0006l"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_witnesses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("is_reporter", sa.Boolean(), nullable=False),
        sa.Column("statement_taken_on", sa.Date(), nullable=True),
        sa.Column("added_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("support_offered", sa.Text(), nullable=True),
        sa.Column("special_measures", sa.JSON(), nullable=False),
        sa.Column("court_familiarisation", sa.Boolean(), nullable=True),
        sa.Column("prepared_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("prepared_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["legal_actions.id"], ondelete="CASCADE",
                                name=op.f("fk_legal_witnesses_action_id_legal_actions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_witnesses")),
    )
    with op.batch_alter_table("legal_witnesses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_witnesses_action_id"), ["action_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("legal_witnesses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_witnesses_action_id"))
    op.drop_table("legal_witnesses")
