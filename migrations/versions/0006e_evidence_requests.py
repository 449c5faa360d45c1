"""evidence_requests, evidence_reviews, diary_entries: evidence asked of the reporter

Revision ID: 0006e
Revises: 0005
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0006e"
down_revision = "0005"
branch_labels = None
depends_on = None

STATUSES = ("open", "received", "withdrawn", "lapsed")
DECISIONS = ("carry_on", "ask_again", "review_case")


def upgrade() -> None:
    op.create_table(
        "evidence_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("due_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("status", sa.Enum(*STATUSES, name="evidence_request_status", native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("last_reminder_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("closed_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("decision", sa.Enum(*DECISIONS, name="evidence_lapse_decision",
                                      native_enum=False, create_constraint=True, length=32),
                  nullable=True),
        sa.Column("decision_notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_evidence_requests_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_requests")),
    )
    with op.batch_alter_table("evidence_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_requests_case_id"), ["case_id"],
                              unique=False)
    op.create_table(
        "evidence_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("useful", sa.Boolean(), nullable=False),
        sa.Column("more_needed", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["evidence_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_evidence_reviews_request_id_evidence_requests")),
        sa.ForeignKeyConstraint(["item_id"], ["evidence_items.id"], ondelete="CASCADE",
                                name=op.f("fk_evidence_reviews_item_id_evidence_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_reviews")),
        sa.UniqueConstraint("item_id", name=op.f("uq_evidence_reviews_item_id")),
    )
    with op.batch_alter_table("evidence_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_reviews_request_id"), ["request_id"],
                              unique=False)
    op.create_table(
        "diary_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("effect", sa.Text(), nullable=True),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("received_at", cases.base.Timestamp(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", cases.base.Timestamp(timezone=True), nullable=True),
        sa.Column("assessment", sa.Text(), nullable=True),
        sa.Column("action_needed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_diary_entries_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entries")),
    )
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_diary_entries_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diary_entries_case_id"))
    op.drop_table("diary_entries")
    with op.batch_alter_table("evidence_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_reviews_request_id"))
    op.drop_table("evidence_reviews")
    with op.batch_alter_table("evidence_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_requests_case_id"))
    op.drop_table("evidence_requests")
