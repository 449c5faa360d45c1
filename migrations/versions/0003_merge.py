"""Join the parallel branches of the first schema (forms, case record, outbox) into one line.

Revision ID: 0003
Revises: 0001b, 0002, 0002b
Create Date: 2026-11-23
"""
from __future__ import annotations

revision = "0003"
down_revision = ("0001b", "0002", "0002b")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
