"""Process instances built by driving the shipped processes through the API, for the managers'
instance pages (tests/manager/test_instances.py, test_instance_actions.py).

The world, on the product clock:
- ``a``: a hate report in St Helen's on Christmas Eve (priority 1, olivia's): assessed, so it
  waits at "Make first contact", due 29 December 17:00 with its deadline timer;
- ``b``: a noise report in Brimington the same morning (priority 2, sam's): at "Assess the risk";
- ``c``: a report in Walton on 28 December (nobody covers Walton: oscar, the least busy);
- ``complaint``: a complaint, its own process (``asb_complaint``), on 29 December;
- ``d`` (``incident=True``): a report on 29 December while no officer is active, so its
  "assign officer" step failed: an open incident (the officers are active again after).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from cases.people import Area, Role, User
from engine import clock
from engine.models import HumanTask, ProcessInstance, TaskStatus
from tasks.complaints import make_complaint
from tests.api.support import XMAS_EVE, Api, make_api
from tests.officer.support import ASSESSMENT, complete_by_api
from web.extensions import unit

HOLIDAY = datetime(2026, 12, 28, 10, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 12, 29, 10, 0, tzinfo=UTC)
WEDNESDAY = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)
FIRST_CONTACT_DUE = datetime(2026, 12, 29, 17, 0, tzinfo=UTC)


def _place(street: str, postcode: str, name: str, description: str) -> dict[str, Any]:
    return {"reporter": {"name": name, "email": f"{name.split()[0].lower()}@example.org",
                         "address": f"{street}, Chesterfield {postcode}",
                         "contact_preferences": {"channels": ["email"]}},
            "incident": {"occurred_at": "2026-12-23T22:00:00+00:00",
                         "location": f"{street}, Chesterfield {postcode}",
                         "description": description, "category": "nuisance",
                         "hate_strands": []}}


BRIMINGTON = _place("3 High Street", "S41 7AA", "Bea Brown", "Loud music every night")
WALTON = _place("8 Walton Road", "S40 4AA", "Cal Cole", "Bins set on fire")
NEWBOLD = _place("2 Newbold Road", "S41 0AA", "Dee Dale", "Shouting in the street")


@dataclass
class World:
    """The cases, their main instance ids, and the ids the filters take."""

    api: Api
    refs: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    areas: dict[str, int] = field(default_factory=dict)
    version: int = 0

    @property
    def engine(self) -> Any:
        return self.api.app.extensions["asb"]["engine"]


def set_officers_active(api: Api, active: bool) -> None:
    """Switch every officer on or off (no officer: assigning a new case fails)."""
    with api.app.app_context(), unit() as session:
        session.execute(update(User).where(User.role == Role.OFFICER).values(active=active))


def open_task_id(api: Api, reference: str, name: str) -> str:
    with api.app.app_context(), unit() as session:
        found = session.scalar(select(HumanTask.id).where(
            HumanTask.business_key == reference, HumanTask.name == name,
            HumanTask.state == TaskStatus.OPEN))
    assert found is not None, (reference, name)
    return found


def run_worker(world: World) -> None:
    """What the worker does at the current product time."""
    with world.api.app.app_context(), unit() as session:
        while world.engine.fire_due_timers(session, limit=100):
            pass


def build_world(tmp_path: Path, *, incident: bool = True) -> World:
    """Open the cases above through the API, as the real processes run them."""
    clock.set_now(XMAS_EVE)
    api = make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))
    world = World(api)
    world.refs["a"] = api.open_case()["reference"]
    complete_by_api(api, open_task_id(api, world.refs["a"], "assess_risk"), ASSESSMENT)
    world.refs["b"] = api.open_case(**BRIMINGTON)["reference"]
    clock.set_now(HOLIDAY)
    world.refs["c"] = api.open_case(received_at="2026-12-28T10:00:00", **WALTON)["reference"]
    clock.set_now(TUESDAY)
    with api.app.app_context(), unit() as session:
        world.refs["complaint"] = make_complaint(
            session, world.engine, complainant={"name": "Eve Evans", "phone": "07700 900456"},
            about="Nobody rang me back", actor="maria").reference
    if incident:
        set_officers_active(api, False)
        world.refs["d"] = api.open_case("maria", received_at="2026-12-29T10:00:00",
                                        **NEWBOLD)["reference"]
        set_officers_active(api, True)
    with api.app.app_context(), unit() as session:
        for key, ref in world.refs.items():
            row = session.scalars(select(ProcessInstance).where(
                ProcessInstance.business_key == ref).order_by(ProcessInstance.id)).first()
            assert row is not None
            world.ids[key] = row.id
        world.version = session.get(ProcessInstance, world.ids["a"]).definition_id
        world.users = dict(session.execute(select(User.name, User.id)).all())
        world.areas = dict(session.execute(select(Area.name, Area.id)).all())
    clock.set_now(WEDNESDAY)
    return world
