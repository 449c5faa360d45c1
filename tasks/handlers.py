"""Import every lifecycle module so that its service-task handlers are registered."""

from __future__ import annotations

import importlib

MODULES = ("intake", "triage", "assignment", "contact", "plan", "notifications", "closure")
MODULES += ("legal_informal", "legal_cpn")
MODULES += ("support",)
MODULES += ("case_review", "complaints")
MODULES += ("evidence_requests",)
MODULES += ("legal_court",)


def load_all() -> None:
    """Register the product's handlers (idempotent: modules import once)."""
    for name in MODULES:
        importlib.import_module(f"tasks.{name}")
