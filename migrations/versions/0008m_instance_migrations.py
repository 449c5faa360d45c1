"""instance_migrations: running instances moved to another version of their process

Revision ID: 0008m
Revises: 0007
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0008m"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_migrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("business_key", sa.String(length=100), nullable=False),
        sa.Column("process_id", sa.String(length=200), nullable=False),
        sa.Column("from_definition_id", sa.Integer(), nullable=False),
        sa.Column("to_definition_id", sa.Integer(), nullable=False),
        sa.Column("migrated_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["process_instances.id"],
            name=op.f("fk_instance_migrations_instance_id_process_instances")),
        sa.ForeignKeyConstraint(
            ["from_definition_id"], ["definition_versions.id"],
            name=op.f("fk_instance_migrations_from_definition_id_definition_versions")),
        sa.ForeignKeyConstraint(
            ["to_definition_id"], ["definition_versions.id"],
            name=op.f("fk_instance_migrations_to_definition_id_definition_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_migrations")),
    )
    with op.batch_alter_table("instance_migrations", schema=None) as batch_op:
        batch_op.create_index("ix_instance_migrations_case", ["business_key", "migrated_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_instance_migrations_instance_id"), ["instance_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("instance_migrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instance_migrations_instance_id"))
        batch_op.drop_index("ix_instance_migrations_case")
    op.drop_table("instance_migrations")
