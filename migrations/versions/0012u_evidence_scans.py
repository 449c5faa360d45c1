"""evidence_scans: the virus scanner's verdict on each file of evidence (quarantine)

Revision ID: 0012u
Revises: 0011
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0012u"
down_revision = "0011"
branch_labels = None
depends_on = None

STATUSES = ("pending", "clean", "infected")


def upgrade() -> None:
    op.create_table(
        "evidence_scans",
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum(*STATUSES, name="scan_status", native_enum=False,
                                    create_constraint=True, length=16), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=True),
        sa.Column("scanned_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence_items.id"], ondelete="CASCADE",
                                name=op.f("fk_evidence_scans_evidence_id_evidence_items")),
        sa.PrimaryKeyConstraint("evidence_id", name=op.f("pk_evidence_scans")),
    )


def downgrade() -> None:
    op.drop_table("evidence_scans")
