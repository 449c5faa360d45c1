"""The dry run of a draft diagram on sample cases (``/diagrams/dry-run``)."""

from __future__ import annotations

from .routes import bp

__all__ = ["bp"]
