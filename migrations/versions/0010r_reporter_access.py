"""reporter_access, reporter_attempts, reporter_submissions: the reporters' door

Revision ID: 0010r
Revises: 0009
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0010r"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reporter_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("expires_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("revoked_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("last_used_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_reporter_access_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporter_access")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_reporter_access_token_hash")),
    )
    with op.batch_alter_table("reporter_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reporter_access_case_id"), ["case_id"],
                              unique=False)
    op.create_table(
        "reporter_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporter_attempts")),
    )
    with op.batch_alter_table("reporter_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_reporter_attempts_key_at", ["scope", "key", "at"],
                              unique=False)
    op.create_table(
        "reporter_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("object_ref", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_reporter_submissions_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporter_submissions")),
    )
    with op.batch_alter_table("reporter_submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reporter_submissions_case_id"), ["case_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("reporter_submissions")
    op.drop_table("reporter_attempts")
    op.drop_table("reporter_access")
