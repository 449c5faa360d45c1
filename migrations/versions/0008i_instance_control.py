"""instance_control: suspended instances, and indexes for the managers' instance list

Revision ID: 0008i
Revises: 0007
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0008i"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_at", engine.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index("ix_process_instances_list_status", ["status", "id"],
                              unique=False)
        batch_op.create_index("ix_process_instances_list_process", ["process_id", "id"],
                              unique=False)
        batch_op.create_index("ix_process_instances_list_version", ["definition_id", "id"],
                              unique=False)
        batch_op.create_index("ix_process_instances_list_started", ["created_at", "id"],
                              unique=False)
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_human_tasks_open_step", ["state", "name", "instance_id"],
                              unique=False)
        batch_op.create_index("ix_human_tasks_open_due", ["instance_id", "state", "due_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_open_due")
        batch_op.drop_index("ix_human_tasks_open_step")
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_process_instances_list_started")
        batch_op.drop_index("ix_process_instances_list_version")
        batch_op.drop_index("ix_process_instances_list_process")
        batch_op.drop_index("ix_process_instances_list_status")
        batch_op.drop_column("suspended_at")
