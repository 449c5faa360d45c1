"""partner_links, partner_notes: the partner agencies' door (one-time links, what partners write)

Revision ID: 0010p
Revises: 0009
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0010p"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("created_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("expires_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("used_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"], ondelete="CASCADE",
                                name=op.f("fk_partner_links_referral_id_referrals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_partner_links_token_hash")),
    )
    with op.batch_alter_table("partner_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_links_referral_id"), ["referral_id"],
                              unique=False)
    op.create_table(
        "partner_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.Enum("message", "action_taken", "progress",
                                  name="partner_note_kind", native_enum=False,
                                  create_constraint=True, length=32), nullable=False),
        sa.Column("at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_partner_notes_case_id_cases")),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"], ondelete="CASCADE",
                                name=op.f("fk_partner_notes_referral_id_referrals")),
        sa.ForeignKeyConstraint(["action_id"], ["conference_actions.id"], ondelete="CASCADE",
                                name=op.f("fk_partner_notes_action_id_conference_actions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_notes")),
    )
    with op.batch_alter_table("partner_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_notes_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_partner_notes_referral_id"), ["referral_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_partner_notes_action_id"), ["action_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partner_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_notes_action_id"))
        batch_op.drop_index(batch_op.f("ix_partner_notes_referral_id"))
        batch_op.drop_index(batch_op.f("ix_partner_notes_case_id"))
    op.drop_table("partner_notes")
    with op.batch_alter_table("partner_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_links_referral_id"))
    op.drop_table("partner_links")
