"""Triggering an event subprocess on one case changes nothing for the cases after it.

The engine shares each definition's parsed spec between its instances. SpiffWorkflow links an
event subprocess into the spec when a message triggers it; shared, that link would give every
case started later a subprocess listening from its start, and its lifecycle would never end.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.models import InstanceStatus, ProcessInstance
from tasks import cases_service
from tests.lifecycle_support import new_life
from tests.test_lifecycle import ASSESSMENT, CONTACT, PLAN, XMAS_EVE

INCIDENT = {"occurred_at": "2026-12-24T09:00:00+00:00", "description": "Music again at 2am",
            "location": "14 Mill Lane, Chesterfield S40 1AB"}
CLOSE = {"closure_reason": "resolved", "reporter_told": True, "satisfaction_asked": True,
         "summary": "Resolved"}


def _close(life, ref):
    life.complete(ref, "assess_risk", ASSESSMENT)
    life.complete(ref, "first_contact", CONTACT)
    life.complete(ref, "agree_action_plan", PLAN)
    for task in [t for t in life.open_tasks(ref) if t.name == "review_incident"]:
        life.engine.complete(life.session, task.id, {"assessment": "Same"}, "olivia")
    life.complete(ref, "work_case", {"outcome": "Noise stopped after the warning"})
    life.complete(ref, "close_case", CLOSE)


def _lifecycle(life, ref):
    return life.session.scalars(select(ProcessInstance).where(
        ProcessInstance.business_key == ref, ProcessInstance.process_id == "asb_case")).one()


def test_a_case_opened_after_another_case_got_a_new_incident_still_ends(db_session):
    life = new_life(db_session)
    first = life.open(XMAS_EVE).reference
    cases_service.receive_incident(db_session, life.engine, first, INCIDENT, actor="api")
    second = life.open(XMAS_EVE).reference  # same engine, same shared spec
    _close(life, first)
    _close(life, second)
    assert _lifecycle(life, first).status is InstanceStatus.COMPLETED
    assert _lifecycle(life, second).status is InstanceStatus.COMPLETED
