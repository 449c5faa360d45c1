"""legal_actions and legal_steps: the legal tools used on a case and their dated steps

Revision ID: 0006l
Revises: 0005
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0006l"
down_revision = "0005"
branch_labels = None
depends_on = None

TOOLS = ("warning_letter", "acceptable_behaviour_agreement", "community_protection",
         "civil_injunction", "closure", "possession")


def upgrade() -> None:
    op.create_table(
        "legal_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("tool", sa.Enum(*TOOLS, name="legal_tool", native_enum=False,
                                  create_constraint=True, length=40), nullable=False),
        sa.Column("status", sa.Enum("open", "ended", name="legal_status", native_enum=False,
                                    create_constraint=True, length=40), nullable=False),
        sa.Column("respondent", sa.String(length=200), nullable=True),
        sa.Column("started_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("ended_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_legal_actions_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_actions")),
    )
    with op.batch_alter_table("legal_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_actions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_actions_tool"), ["tool"], unique=False)
    op.create_table(
        "legal_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("due_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["legal_actions.id"], ondelete="CASCADE",
                                name=op.f("fk_legal_steps_action_id_legal_actions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_steps")),
    )
    with op.batch_alter_table("legal_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_steps_action_id"), ["action_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("legal_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_steps_action_id"))
    op.drop_table("legal_steps")
    with op.batch_alter_table("legal_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_actions_tool"))
        batch_op.drop_index(batch_op.f("ix_legal_actions_case_id"))
    op.drop_table("legal_actions")
