"""Fixtures for lifecycle tests: the product engine with the shipped diagrams, people, reports."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases.outbox import OutboxMessage
from cases.people import create_user, ensure_area
from engine import clock
from engine.models import HumanTask, TaskStatus
from tasks import cases_service
from tasks.wiring import build_engine

BPMN = Path(__file__).resolve().parent.parent / "bpmn"


def make_report(**overrides: Any) -> dict[str, Any]:
    """A report as POST /api/v1/cases takes it; keyword arguments replace whole sections."""
    report: dict[str, Any] = {
        "channel": "phone",
        "reporter": {"name": "Rita Reporter", "phone": "07700 900123",
                     "email": "rita@example.org", "address": "12 Mill Lane, Chesterfield S40 1AB",
                     "contact_preferences": {"channels": ["email", "letter"]}},
        "incident": {"occurred_at": "2026-12-22T23:30:00+00:00",
                     "location": "14 Mill Lane, Chesterfield S40 1AB",
                     "description": "Loud music and shouting every night", "category": "nuisance",
                     "hate_strands": []},
        "vulnerability": {"child_at_risk": False, "vulnerable_adult": False,
                          "repeat_victim": False, "threat_of_violence": False},
    }
    report.update(overrides)
    return report


class Lifecycle:
    """Drives cases through the shipped diagrams as officers would."""

    def __init__(self, session: Any):
        self.session = session
        self.engine = build_engine()
        self.engine.definitions.sync_directory(session, BPMN)

    def people(self) -> None:
        ward = ensure_area(self.session, "St Helen's")
        olivia = create_user(self.session, "olivia", "officer", team="North",
                             display_name="Olivia Officer", email="olivia@council.example.org",
                             phone="01246 111222")
        olivia.areas.append(ward)
        create_user(self.session, "oscar", "officer", team="North", display_name="Oscar Officer")
        create_user(self.session, "tara", "team_leader", team="North", display_name="Tara Leader")
        self.session.flush()

    def open(self, at: datetime, **report: Any) -> Any:
        clock.set_now(at)
        return cases_service.open_case(self.session, self.engine, make_report(**report),
                                       actor="api", received_at=at)

    def open_tasks(self, reference: str) -> list[HumanTask]:
        return list(self.session.scalars(select(HumanTask).where(
            HumanTask.business_key == reference, HumanTask.state == TaskStatus.OPEN)
            .order_by(HumanTask.created_at, HumanTask.name)))

    def task(self, reference: str, name: str) -> HumanTask:
        (found,) = [t for t in self.open_tasks(reference) if t.name == name]
        return found

    def complete(self, reference: str, name: str, data: dict[str, Any], actor: str = "olivia"
                 ) -> Any:
        return self.engine.complete(self.session, self.task(reference, name).id, data, actor)

    def at(self, moment: datetime) -> None:
        """Move the product clock and let the worker fire what fell due."""
        clock.set_now(moment)
        while self.engine.fire_due_timers(self.session, limit=100):
            pass

    def outbox(self, reference: str) -> list[OutboxMessage]:
        return list(self.session.scalars(select(OutboxMessage).where(
            OutboxMessage.case_reference == reference).order_by(OutboxMessage.id)))


def new_life(session: Any) -> Lifecycle:
    """A lifecycle driver with the shipped diagrams and a small team of people."""
    lifecycle = Lifecycle(session)
    lifecycle.people()
    return lifecycle
