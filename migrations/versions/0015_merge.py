"""merge: worker heartbeats (operations) and browser session records (accounts)

Revision ID: 0015
Revises: 0014o, 0014s
Create Date: 2026-11-24
"""
from __future__ import annotations

revision = "0015"
down_revision = ("0014o", "0014s")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: the branches add separate tables."""


def downgrade() -> None:
    """Nothing to do: the branches add separate tables."""
