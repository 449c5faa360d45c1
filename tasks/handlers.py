"""Import every lifecycle module so that its service-task handlers are registered."""

from __future__ import annotations

import importlib

MODULES = ("intake", "triage", "assignment", "contact", "plan", "notifications", "closure")


def load_all() -> None:
    """Register the product's handlers (idempotent: modules import once)."""
    for name in MODULES:
        importlib.import_module(f"tasks.{name}")
