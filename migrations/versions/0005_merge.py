"""Join task drafts (0004a) and evidence (0004b) into one line.

Revision ID: 0005
Revises: 0004a, 0004b
Create Date: 2026-11-23
"""
from __future__ import annotations

revision = "0005"
down_revision = ("0004a", "0004b")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
