"""referrals, case_conferences, conference_actions: partner referrals and case conferences

Revision ID: 0006s
Revises: 0005
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0006s"
down_revision = "0005"
branch_labels = None
depends_on = None

LEGAL_BASES = ("crime_and_disorder_act_s115", "safeguarding", "crime_committed",
               "legal_obligation", "consent")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _referrals() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("agency_name", sa.String(length=128), nullable=False),
        sa.Column("agency_email", sa.String(length=254), nullable=True),
        sa.Column("kind", _enum("referral_kind", "partner", "safeguarding"), nullable=False),
        sa.Column("status", _enum("referral_status", "sent", "accepted", "declined", "done",
                                  "withdrawn"), nullable=False),
        sa.Column("legal_basis", _enum("referral_legal_basis", *LEGAL_BASES), nullable=False),
        sa.Column("disclosed", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=True),
        sa.Column("at_risk", _enum("referral_at_risk", "child", "adult"), nullable=True),
        sa.Column("external_reference", sa.String(length=64), nullable=True),
        sa.Column("referred_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("referred_by", sa.String(length=64), nullable=False),
        sa.Column("answered_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answer_note", sa.Text(), nullable=True),
        sa.Column("done_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("chasers_sent", sa.Integer(), nullable=False),
        sa.Column("last_chased_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("next_step", sa.String(length=32), nullable=True),
        sa.Column("next_step_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_referrals_case_id_cases")),
        sa.ForeignKeyConstraint(["agency_id"], ["partner_agencies.id"],
                                name=op.f("fk_referrals_agency_id_partner_agencies")),
        sa.ForeignKeyConstraint(["disclosure_id"], ["disclosures.id"],
                                name=op.f("fk_referrals_disclosure_id_disclosures")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_status"), ["status"], unique=False)


def _conferences() -> None:
    op.create_table(
        "case_conferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=False),
        sa.Column("invited", sa.JSON(), nullable=False),
        sa.Column("status", _enum("conference_status", "scheduled", "held", "not_held"),
                  nullable=False),
        sa.Column("scheduled_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("scheduled_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("legal_basis", _enum("conference_legal_basis", *LEGAL_BASES), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_case_conferences_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_conferences")),
    )
    with op.batch_alter_table("case_conferences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_conferences_case_id"), ["case_id"],
                              unique=False)
    op.create_table(
        "conference_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=300), nullable=False),
        sa.Column("owner_kind", _enum("action_owner_kind", "agency", "user"), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("owner_name", sa.String(length=128), nullable=False),
        sa.Column("owner_email", sa.String(length=254), nullable=True),
        sa.Column("due_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("status", _enum("action_status", "open", "done", "dropped"), nullable=False),
        sa.Column("done_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("chasers_sent", sa.Integer(), nullable=False),
        sa.Column("last_chased_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["conference_id"], ["case_conferences.id"], ondelete="CASCADE",
                                name=op.f("fk_conference_actions_conference_id_case_conferences")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conference_actions")),
    )
    with op.batch_alter_table("conference_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conference_actions_conference_id"),
                              ["conference_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conference_actions_status"), ["status"],
                              unique=False)


def upgrade() -> None:
    _referrals()
    _conferences()


def downgrade() -> None:
    with op.batch_alter_table("conference_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conference_actions_status"))
        batch_op.drop_index(batch_op.f("ix_conference_actions_conference_id"))
    op.drop_table("conference_actions")
    with op.batch_alter_table("case_conferences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_conferences_case_id"))
    op.drop_table("case_conferences")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_status"))
        batch_op.drop_index(batch_op.f("ix_referrals_agency_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_case_id"))
    op.drop_table("referrals")
