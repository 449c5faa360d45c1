"""merge the doors for reporters and partner agencies

Revision ID: 0011
Revises: 0010p, 0010r
Create Date: 2026-11-24
"""
from __future__ import annotations

revision = "0011"
down_revision = ("0010p", "0010r")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: the branches add separate tables."""


def downgrade() -> None:
    """Nothing to do: the branches add separate tables."""
