"""An event subprocess triggered in one process can be finished in another.

Web and worker processes each load specs from the database. SpiffWorkflow links an event
subprocess into its spec only when it is triggered, so a process that did not trigger it
must restore the link when it loads the workflow, or the officer's completion fails.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tasks import cases_service
from tasks.wiring import build_engine
from tests.lifecycle_support import new_life
from tests.test_lifecycle import PLAN, _through_first_contact


def test_a_new_incident_received_by_one_process_is_reviewed_in_another(db_session):
    life = new_life(db_session)
    ref = _through_first_contact(life).reference
    life.complete(ref, "agree_action_plan", PLAN)
    life.at(datetime(2026, 12, 30, 10, 0, tzinfo=UTC))
    cases_service.receive_incident(db_session, life.engine, ref, {
        "occurred_at": "2026-12-30T09:00:00+00:00", "description": "Music again at 2am",
        "location": "14 Mill Lane, Chesterfield S40 1AB"}, actor="api")
    assert "review_incident" in [t.name for t in life.open_tasks(ref)]

    life.engine = build_engine()  # another process: specs read afresh from the database
    life.complete(ref, "review_incident", {"assessment": "Same pattern", "risk_changed": False})
    assert [t.name for t in life.open_tasks(ref)] == ["work_case"]
    life.complete(ref, "work_case", {"outcome": "Noise stopped after the warning"})
    assert [t.name for t in life.open_tasks(ref)] == ["close_case"]
