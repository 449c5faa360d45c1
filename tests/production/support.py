"""Helpers of the production tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.lifecycle_support import make_report


def recent_report() -> dict[str, Any]:
    """A report of last night's incident: processes that run on the real time accept it."""
    report = make_report()
    report["incident"] = {**report["incident"],
                          "occurred_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    return report
