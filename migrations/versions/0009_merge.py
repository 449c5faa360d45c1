"""merge the workspaces' branches: dashboard indexes, instance control, instance migrations

Revision ID: 0009
Revises: 0008d, 0008i, 0008m
Create Date: 2026-11-24
"""
from __future__ import annotations

revision = "0009"
down_revision = ("0008d", "0008i", "0008m")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: the branches touch separate tables and indexes."""


def downgrade() -> None:
    """Nothing to do: the branches touch separate tables and indexes."""
