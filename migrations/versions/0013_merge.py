"""merge issue 9's branches: audit chain, retention, accounts, evidence scans

Revision ID: 0013
Revises: 0012a, 0012p, 0012s, 0012u
Create Date: 2026-11-24
"""
from __future__ import annotations

revision = "0013"
down_revision = ("0012a", "0012p", "0012s", "0012u")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: the branches touch separate tables and columns."""


def downgrade() -> None:
    """Nothing to do: the branches touch separate tables and columns."""
