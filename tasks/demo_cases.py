"""A realistic demo: cases reported over several months and worked through the real processes.

Nothing is inserted behind the workflow's back: reports go through ``open_case``, officers
complete their tasks with plausible form data, and the product clock moves day by day so
that deadlines, escalations and update reminders fall due and fire as they would.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cases.records import CaseDataInvalid
from engine import clock
from engine.database import unit_of_work
from engine.errors import EngineError
from engine.models import HumanTask, TaskStatus
from engine.runtime import CaseEngine

from . import cases_service, demo_stages

LONDON = ZoneInfo("Europe/London")
FIRST_NAMES = ("Amira", "Ben", "Chloe", "Dev", "Eileen", "Farid", "Grace", "Harry", "Imani",
               "Jack", "Kasia", "Liam", "Maya", "Noah", "Olu", "Priya", "Rosa", "Sam", "Tom",
               "Una", "Vik", "Wendy", "Yusuf", "Zara")
SURNAMES = ("Ahmed", "Brown", "Clarke", "Davies", "Evans", "Green", "Hughes", "Iqbal", "Jones",
            "Khan", "Lewis", "Morris", "Novak", "Owen", "Patel", "Roberts", "Singh", "Taylor",
            "Walker", "Wright")
STREETS = (("Mill Lane", "S40 1AB"), ("Saltergate", "S40 1LH"), ("Ashgate Road", "S40 4AA"),
           ("Newbold Road", "S41 7PG"), ("High Street", "S41 9AU"), ("Church Street", "S41 0DU"),
           ("Rectory Road", "S43 3UZ"), ("Station Road", "S43 2PB"), ("Whittington Hill",
                                                                       "S41 8LS"),
           ("Storforth Lane", "S41 0QP"), ("Boythorpe Road", "S40 3LS"))
BEHAVIOURS = (
    ("nuisance", "Loud music and parties late into the night"),
    ("nuisance", "Dogs barking for hours while the owner is out"),
    ("personal", "Threats and shouting in the street outside my home"),
    ("personal", "Young people gathering and intimidating residents"),
    ("environmental", "Rubbish dumped in the shared garden every week"),
    ("environmental", "Graffiti on the garages and fences"),
    ("nuisance", "Cars revving and racing in the car park at night"),
)
HATE = ("race", "religion", "disability", "sexual_orientation", "transgender")


@dataclass
class DemoStats:
    """What the demo made, for the command's summary."""

    cases: int = 0
    completed_tasks: int = 0
    new_incidents: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)


def _report(rng: random.Random, received: datetime) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    street, postcode = rng.choice(STREETS)
    number = rng.randint(1, 120)
    category, description = rng.choice(BEHAVIOURS)
    hate = [rng.choice(HATE)] if rng.random() < 0.1 else []
    if hate:
        category, description = "personal", "Abuse aimed at me because of who I am"
    channels = rng.choice((["email"], ["sms", "email"], ["letter"], ["email", "letter"]))
    prefs: dict[str, Any] = {"channels": channels}
    if rng.random() < 0.15:
        prefs["safe_times"] = [{"days": "mon-fri", "from": "09:00", "to": "17:00"}]
    if rng.random() < 0.1:
        prefs.update({"channels": [c for c in channels if c != "letter"] or ["phone"],
                      "unsafe_channels": ["letter"], "no_voicemail": True})
    return {
        "channel": rng.choice(("phone", "online", "email", "face_to_face")),
        "reporter": {"name": f"{first} {last}", "phone": f"07700 9{rng.randint(0, 99999):05d}",
                     "email": f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@example.org",
                     "address": f"{number} {street}, Chesterfield {postcode}",
                     "contact_preferences": prefs},
        "incident": {"occurred_at": (received - timedelta(hours=rng.randint(2, 60))).isoformat(),
                     "location": f"{number + rng.choice((1, 2, -1))} {street}, Chesterfield "
                                 f"{postcode}",
                     "description": description, "category": category, "hate_strands": hate},
        "vulnerability": {"child_at_risk": rng.random() < 0.05,
                          "vulnerable_adult": rng.random() < 0.07,
                          "threat_of_violence": rng.random() < 0.05, "repeat_victim": False},
    }


def _form(rng: random.Random, name: str, now: datetime) -> dict[str, Any] | None:
    assessment = {"harm": rng.choice(("low", "medium", "high")),
                  "community_impact": rng.choice(("low", "medium", "high")),
                  "raise_priority": rng.random() < 0.08,
                  "vulnerability": {"personal": rng.random() < 0.2,
                                    "situational": rng.random() < 0.3, "incidental": False}}
    forms: dict[str, Callable[[], dict[str, Any]]] = {
        "assess_risk": lambda: assessment,
        "review_risk": lambda: assessment,
        "first_contact": lambda: {"contacted_at": now.isoformat(),
                                  "method": rng.choice(("phone", "face_to_face")),
                                  "summary": "Discussed what is happening and agreed next steps"},
        "first_contact_overdue": lambda: {"action_taken": "Reminded the officer; call booked"},
        "agree_action_plan": lambda: {
            "actions": rng.sample(["Diary sheets sent", "Warning letter to the household",
                                   "Joint visit with police", "Noise monitoring equipment",
                                   "Mediation offered", "CCTV request"], 2),
            "update_frequency": rng.choice(("weekly", "fortnightly", "monthly")),
            "agreed_with_reporter": True},
        "update_reporter": lambda: {"method": rng.choice(("phone", "email")),
                                    "summary": "Progress so far and what happens next"},
        "work_case": lambda: {"outcome": rng.choice(("Behaviour stopped after the warning",
                                                     "Mediation agreed between neighbours",
                                                     "Referred to the police"))},
        "review_incident": lambda: {"assessment": "Consistent with the pattern reported",
                                    "risk_changed": False},
        "close_case": lambda: {"closure_reason": rng.choice(
            ("resolved", "resolved", "no_further_action", "insufficient_evidence")),
            "reporter_told": True, "satisfaction_asked": True,
            "summary": "Closed after review with the reporter"},
        "make_safeguarding_referral": lambda: _safeguarding(rng),
        "safeguarding_overdue": lambda: {"action_taken": "Made the referral with the officer"},
        "review_diary_entry": lambda: {"assessment": "Consistent with the pattern reported",
                                       "action_needed": False},
        "phone_reporter": lambda: {"spoke_to_reporter": True,
                                   "summary": "Gave the update by phone"},
    }
    maker = forms.get(name)
    return maker() if maker else None  # unknown: the demo leaves the task open


def _safeguarding(rng: random.Random) -> dict[str, Any]:
    at_risk = rng.choice(("child", "adult"))
    return {"at_risk": at_risk,
            "agency": "children_safeguarding" if at_risk == "child" else "adult_safeguarding",
            "reference_number": f"SG-{rng.randint(1000, 9999)}",
            "referred_at": clock.now().isoformat(),
            "disclose": {"incident_details": True, "risk_assessment": True},
            "legal_basis": "safeguarding",
            "summary": "Referred by phone; the duty worker will visit"}


# How likely an open task is done on a given working day (officers are busy people).
PACE = {"assess_risk": 0.7, "first_contact": 0.5, "first_contact_overdue": 0.7,
        "agree_action_plan": 0.3, "update_reporter": 0.6, "work_case": 0.015,
        "review_incident": 0.6, "close_case": 0.3, "review_risk": 0.5,
        "make_safeguarding_referral": 0.8, "safeguarding_overdue": 0.8,
        "review_diary_entry": 0.6, "phone_reporter": 0.7}


def _actor(task: HumanTask, officers: list[str], leaders: list[str]) -> str:
    if task.assignee:
        return task.assignee
    return leaders[0] if task.role == "team_leader" and leaders else officers[0]


def _work_day(session: Session, engine: CaseEngine, rng: random.Random, now: datetime,
              officers: list[str], leaders: list[str], stats: DemoStats) -> None:
    # Ties on created_at broken by instance and name before the task's random UUID: the same
    # seed then works the same tasks in every run.
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.state == TaskStatus.OPEN)
                                 .order_by(HumanTask.created_at, HumanTask.instance_id,
                                           HumanTask.name, HumanTask.id)))
    for task in tasks:
        pace = PACE.get(task.name, demo_stages.PACE.get(task.name, 0.3))
        if task.created_at > now - timedelta(hours=2) or rng.random() > pace:
            continue
        data = _form(rng, task.name, now)
        if data is None:
            data = demo_stages.form_for_task(session, rng, task, now)
        if data is None:
            continue  # a task the demo knows nothing about stays open
        try:
            with session.begin_nested():
                engine.complete(session, task.id, data, actor=_actor(task, officers, leaders))
            stats.completed_tasks += 1
        except (EngineError, CaseDataInvalid):
            continue  # a conflict or a refused form: the officer tries again another day


def build_demo(factory: sessionmaker[Session], engine: CaseEngine, *, cases: int = 220,
               days: int = 150, seed: int = 2026, until: datetime | None = None,
               officers: list[str], leaders: list[str]) -> DemoStats:
    """Report ``cases`` cases over ``days`` working days up to ``until`` and work them."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security # nosec B311
    end = until or clock.now()
    day = (end - timedelta(days=days * 7 // 5)).astimezone(LONDON).date()
    per_day = cases / days
    stats, owed = DemoStats(), 0.0
    opened: list[str] = []
    stager = demo_stages.StageStarter(seed + 1)
    try:
        while day <= end.astimezone(LONDON).date():
            if day.weekday() < 5:
                owed += per_day
                for _ in range(int(owed)):
                    if stats.cases >= cases:
                        break
                    hour = rng.randint(8, 19)
                    received = datetime.combine(day, time(hour, rng.randint(0, 59)), LONDON)
                    if received > end:
                        break
                    clock.set_now(received)
                    with unit_of_work(factory) as session:
                        case = cases_service.open_case(session, engine, _report(rng, received),
                                                       actor="demo", received_at=received)
                        opened.append(case.reference)
                    stats.cases += 1
                owed -= int(owed)
                moment = datetime.combine(day, time(15, 0), LONDON)
                if moment <= end:
                    clock.set_now(moment)
                    with unit_of_work(factory) as session:
                        _work_day(session, engine, rng, moment, officers, leaders, stats)
                        stager.day(session, engine, moment)
                        if opened and rng.random() < 0.3:
                            _new_incident(session, engine, rng, rng.choice(opened), moment,
                                          stats)
            evening = min(datetime.combine(day, time(23, 0), LONDON), end)
            clock.set_now(evening)
            with unit_of_work(factory) as session:
                while engine.fire_due_timers(session, limit=200):
                    pass
            day += timedelta(days=1)
    finally:
        clock.reset()
    stats.by_stage.update(stager.started)
    return stats


def _new_incident(session: Session, engine: CaseEngine, rng: random.Random, reference: str,
                  now: datetime, stats: DemoStats) -> None:
    try:
        with session.begin_nested():
            cases_service.receive_incident(session, engine, reference, {
                "occurred_at": (now - timedelta(hours=rng.randint(1, 20))).isoformat(),
                "location": "Same place as before", "description": "It happened again"},
                actor="demo")
        stats.new_incidents += 1
    except (EngineError, CaseDataInvalid):
        return


def stage_counts(session: Session) -> dict[str, int]:
    """How many demo cases stand at each stage (and status)."""
    from sqlalchemy import func

    from cases.records import Case

    rows = session.execute(select(Case.status, Case.stage, func.count()).group_by(
        Case.status, Case.stage)).all()
    return {f"{status}/{stage}": n for status, stage, n in rows}

