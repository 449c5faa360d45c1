"""merge the lifecycle part 2 tables: challenge, evidence requests, legal, support

Revision ID: 0007
Revises: 0006c, 0006e, 0006j, 0006s
Create Date: 2026-11-23
"""
from __future__ import annotations

revision = "0007"
down_revision = ("0006c", "0006e", "0006j", "0006s")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: the branches add separate tables."""


def downgrade() -> None:
    """Nothing to do: the branches add separate tables."""
