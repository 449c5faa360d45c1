"""The admin workspace (``/admin``): users, teams, areas, partner agencies and configuration."""

from __future__ import annotations

from .routes import bp

__all__ = ["bp"]
