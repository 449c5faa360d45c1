"""The process owner's workspace (``/diagrams``): edit, check, version and publish diagrams."""

from __future__ import annotations

from .routes import bp

__all__ = ["bp"]
