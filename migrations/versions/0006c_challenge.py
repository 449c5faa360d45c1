"""ASB Case Review and complaints: applications, recommendations, notices, complaints, stages

Revision ID: 0006c
Revises: 0005
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cases.base

revision = "0006c"
down_revision = "0005"
branch_labels = None
depends_on = None

RELATIONSHIPS = ("victim", "on_behalf_of_victim", "elected_representative",
                 "business_or_community", "other")
REVIEW_STATUSES = ("received", "awaiting_decision", "review_to_be_held", "threshold_not_met",
                   "tracking", "completed")
COMPLAINT_STATUSES = ("stage_one", "awaiting_escalation", "stage_two", "closed")
OUTCOMES = ("upheld", "partly_upheld", "not_upheld")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, cases.base.Timestamp(timezone=True), nullable=nullable)


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _fk(table: str, column: str, target: str, ondelete: str | None = None
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "challenge_sequences",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "year", name=op.f("pk_challenge_sequences")),
    )
    op.create_table(
        "case_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("relationship_to_victim", _enum("applicant_relationship", RELATIONSHIPS),
                  nullable=False),
        sa.Column("contact_preferences", sa.JSON(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("normalised_address", sa.String(length=500), nullable=True),
        sa.Column("reported_person_id", sa.Integer(), nullable=True),
        sa.Column("other_reports", sa.JSON(), nullable=False),
        sa.Column("status", _enum("case_review_status", REVIEW_STATUSES), nullable=False),
        _ts("received_at", False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        _ts("acknowledge_due_at", False),
        _ts("decision_due_at", False),
        _ts("outcome_due_at", False),
        _ts("acknowledged_at"),
        sa.Column("qualifying_complaints", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.SmallInteger(), nullable=True),
        sa.Column("counted_incidents", sa.JSON(), nullable=False),
        sa.Column("threshold_met", sa.Boolean(), nullable=True),
        sa.Column("route", sa.String(length=32), nullable=True),
        _ts("decided_at"),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("decision_reasons", sa.Text(), nullable=True),
        sa.Column("review_held", sa.Boolean(), nullable=False),
        _ts("panel_met_at"),
        sa.Column("agencies", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=True),
        _ts("outcome_sent_at"),
        _ts("completed_at"),
        _fk("case_reviews", "case_id", "cases", "SET NULL"),
        _fk("case_reviews", "applicant_id", "persons"),
        _fk("case_reviews", "reported_person_id", "persons"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_reviews")),
        sa.UniqueConstraint("reference", name=op.f("uq_case_reviews_reference")),
    )
    _indexes("case_reviews", "applicant_id", "case_id", "normalised_address", "postcode",
             "received_at", "status")
    op.create_table(
        "case_review_recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_review_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        _ts("due_at", False),
        _ts("done_at"),
        sa.Column("done_note", sa.Text(), nullable=True),
        _ts("last_chased_at"),
        sa.Column("times_chased", sa.Integer(), nullable=False),
        _fk("case_review_recommendations", "case_review_id", "case_reviews", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_review_recommendations")),
        sa.UniqueConstraint("case_review_id", "number",
                            name=op.f("uq_case_review_recommendations_case_review_id")),
    )
    _indexes("case_review_recommendations", "case_review_id")
    op.create_table(
        "case_review_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        _ts("told_at", False),
        sa.Column("reports", sa.Integer(), nullable=False),
        _fk("case_review_notices", "case_id", "cases", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_review_notices")),
    )
    _indexes("case_review_notices", "case_id", "told_at")
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("complainant_id", sa.Integer(), nullable=False),
        sa.Column("contact_preferences", sa.JSON(), nullable=True),
        sa.Column("about", sa.Text(), nullable=False),
        sa.Column("outcome_sought", sa.Text(), nullable=True),
        sa.Column("council_home", sa.Boolean(), nullable=False),
        sa.Column("status", _enum("complaint_status", COMPLAINT_STATUSES), nullable=False),
        _ts("received_at", False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        _ts("escalated_at"),
        sa.Column("escalation_reason", sa.Text(), nullable=True),
        _ts("closed_at"),
        sa.Column("closed_after_stage", sa.SmallInteger(), nullable=True),
        _fk("complaints", "case_id", "cases", "SET NULL"),
        _fk("complaints", "complainant_id", "persons"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("reference", name=op.f("uq_complaints_reference")),
    )
    _indexes("complaints", "case_id", "complainant_id", "received_at", "status")
    op.create_table(
        "complaint_stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.SmallInteger(), nullable=False),
        _ts("opened_at", False),
        _ts("acknowledge_due_at", False),
        _ts("acknowledged_at"),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("understanding", sa.Text(), nullable=True),
        _ts("response_due_at"),
        sa.Column("extended_days", sa.SmallInteger(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        _ts("extended_at"),
        _ts("responded_at"),
        sa.Column("responded_by", sa.String(length=64), nullable=True),
        sa.Column("outcome", _enum("complaint_outcome", OUTCOMES), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("remedy", sa.Text(), nullable=True),
        _ts("escalation_deadline_at"),
        _fk("complaint_stages", "complaint_id", "complaints", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_stages")),
        sa.UniqueConstraint("complaint_id", "stage",
                            name=op.f("uq_complaint_stages_complaint_id")),
    )
    _indexes("complaint_stages", "complaint_id")


def downgrade() -> None:
    for table, columns in (
            ("complaint_stages", ("complaint_id",)),
            ("complaints", ("case_id", "complainant_id", "received_at", "status")),
            ("case_review_notices", ("case_id", "told_at")),
            ("case_review_recommendations", ("case_review_id",)),
            ("case_reviews", ("applicant_id", "case_id", "normalised_address", "postcode",
                              "received_at", "status"))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
    op.drop_table("challenge_sequences")
