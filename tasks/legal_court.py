"""The court stages an officer starts from the case file, and their handlers.

Three legal tools that end in court (docs/stages/legal_court.md): a civil injunction, a
closure notice then closure order, and possession on the absolute ground. Each is a stage of
its own (tasks/stages.py), at most one of a kind running per case. Importing this module
registers the stages and, through the modules below, every handler their diagrams call.
"""

from __future__ import annotations

from . import legal_court_closure, legal_court_injunction, legal_court_possession
from .stages import register_stage

HANDLER_MODULES = (legal_court_injunction, legal_court_closure, legal_court_possession)

register_stage(
    "asb_legal_injunction", "Apply for a civil injunction",
    "Court order against a person aged 10 or over: youth offending team consulted for under-18s, "
    "evidence bundle, witnesses prepared, hearing, then breaches until it ends.",
    "legal", single=True)
register_stage(
    "asb_legal_closure", "Closure notice and order",
    "Close premises for 24 or 48 hours, then ask the magistrates' court, within 48 hours, for a "
    "closure order of up to 3 months (extendable to 6).",
    "legal", single=True)
register_stage(
    "asb_legal_possession", "Possession on the absolute ground",
    "Seek possession of a council tenancy after a conviction, a breach or a closure order: "
    "notice within the time limit, the tenant's review, then court.",
    "legal", single=True)
