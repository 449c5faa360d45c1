"""dashboard_indexes: covering indexes for the manager's dashboard figures

Each figure reads only the index entries of what it counts (the open cases, the cases
received in the period, the cases waiting for first contact, the updates falling due, the
overdue tasks, the legal actions and referrals of the period), so the dashboard's cost follows
those rows, not the size of the tables.

Revision ID: 0008d
Revises: 0007
Create Date: 2026-11-25
"""
from __future__ import annotations

from alembic import op

revision = "0008d"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = {
    # Open cases by priority, stage, category and area, read in that order (cases/figures).
    "ix_cases_open_figures": ["status", "priority", "stage", "category", "area", "team",
                              "repeat_victim", "safeguarding"],
    # Open cases per officer, read in officer order.
    "ix_cases_open_officers": ["status", "case_officer", "priority", "area", "team"],
    # Promise 2 by month received: one range per priority and month.
    "ix_cases_received_figures": ["priority", "received_at", "first_contact_due_at",
                                  "first_contact_at", "area", "team"],
    "ix_cases_hate_received": ["hate", "received_at", "area", "team"],
    "ix_cases_first_contact_waiting": ["status", "first_contact_at", "first_contact_due_at",
                                       "priority", "area", "team"],
    "ix_cases_update_due": ["status", "next_update_due_at", "update_frequency", "area",
                            "team"],
}


OTHER_INDEXES = {
    "human_tasks": {
        # Open tasks past their due date, by task and case (the overdue tasks figure).
        "ix_human_tasks_state_due": ["state", "due_at", "name", "business_key"],
    },
    "legal_actions": {
        "ix_legal_actions_started_figures": ["started_at", "tool", "status", "outcome",
                                             "case_id"],
    },
    "referrals": {
        "ix_referrals_referred_figures": ["referred_at", "agency_code", "status",
                                          "agency_name", "case_id"],
    },
}


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    for table, indexes in OTHER_INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, columns in indexes.items():
                batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, indexes in OTHER_INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(indexes):
                batch_op.drop_index(name)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in reversed(INDEXES):
            batch_op.drop_index(name)
