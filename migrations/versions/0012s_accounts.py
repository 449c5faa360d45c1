"""users: two-factor sign-in (TOTP) columns and session revocation

Revision ID: 0012s
Revises: 0011
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0012s"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("totp_enrolled_at", cases.base.Timestamp(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("recovery_codes", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("sessions_revoked_at",
                                      cases.base.Timestamp(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        for column in ("sessions_revoked_at", "recovery_codes", "totp_last_step",
                       "totp_enrolled_at", "totp_secret"):
            batch_op.drop_column(column)
