"""The first-contact deadline checked against the council's policy, on sample reports.

The first-contact task's ``due`` property and the timers on it are worked out, in the sandbox,
for reports received on days that test the working-day rule (``SAMPLES``) at every priority;
each must fall no later than the deadline the council's policy sets (``policy_deadlines``:
working days and close of business from the council's settings, or their defaults without a
database). ``first_contact_deadlines`` is one of the promises tasks/diagram_checks.py checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy.orm import Session

from cases import config as council_config
from engine import calendar, clock
from engine.sandbox import SandboxedEnvironment
from engine.validation import Diagram, Element, Problem, Scope, kind, local, spiff_props

from .diagram_promises import Target
from .wiring import DIAGRAM_GLOBALS

LONDON = ZoneInfo("Europe/London")
# Reports received on days that test the working-day rule (DOMAIN.md's examples among them).
SAMPLES = tuple(
    datetime(*when, tzinfo=LONDON)
    for when in (
        (2026, 12, 24, 10),
        (2026, 12, 23, 10),
        (2026, 4, 3, 10),
        (2027, 1, 9, 12),
        (2027, 3, 1, 9),
    )
)
Sample = tuple[datetime, int, int, datetime]  # received, priority, working days, policy deadline


def policy_deadlines(session: Session | None) -> tuple[str, list[Sample]]:
    """The close of business and the policy's deadline for each sample report and priority."""

    def get(key: str) -> Any:
        if session is None:
            return council_config.DEFAULTS[key]
        return council_config.get_setting(session, key, at=clock.now())

    cob, days = str(get("close_of_business")), get("first_contact_working_days")
    return cob, [
        (received, int(p), int(n), calendar.due_after_working_days(received, int(n), cob))
        for received in SAMPLES
        for p, n in sorted(days.items())
    ]


def _day(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def _moment(value: Any, kind_: str, received: datetime) -> datetime:
    """The moment a deadline expression or timer gives for a report received at ``received``."""
    if isinstance(value, datetime) or kind_ in ("timeDate", "due"):
        return calendar.default_calendar().to_aware(value)
    text = str(value).strip().upper()
    if kind_ == "timeCycle":
        text = text.lstrip("R0123456789").strip("/")
    if "/" in text or not text.startswith("P"):
        raise ValueError(f"'{value}' is not a duration from the start of the task")
    duration = TimerEventDefinition.parse_iso_duration(text)
    return received + TimerEventDefinition.get_timedelta_from_start(duration, received)


def _late(
    session: Session | None, el: Element, what: str, source: str, kind_: str
) -> Iterator[Problem]:
    cob, samples = policy_deadlines(session)
    for received, priority, days, due in samples:
        helpers = {
            **DIAGRAM_GLOBALS,
            "now": received.isoformat,
            "due_after_working_days": lambda m, n: calendar.due_after_working_days(
                m, int(n), cob
            ).isoformat(),
        }
        data = {
            "received_at": received.isoformat(),
            "priority": priority,
            "first_contact_due": due.isoformat(),
            "hate": priority == 1,
            "reopened": False,
            "safeguarding": False,
            "case_officer": "officer",
            "team_leader": "team_leader",
        }
        shown = f"a priority {priority} report received {_day(received)}"
        try:
            given = _moment(SandboxedEnvironment(helpers).evaluate(source, data), kind_, received)
        except Exception as exc:  # noqa: BLE001 - any failure means the deadline is unknown
            yield Problem(
                el.get("id"),
                kind(el),
                f"The {what} cannot be worked out for {shown} "
                f"({exc}); use first_contact_due, the deadline the council's policy "
                "sets.",
                "first_contact_deadline",
            )
            return
        if given > due:
            yield Problem(
                el.get("id"),
                kind(el),
                f"The {what} gives {_day(given)} for {shown}, "
                f"later than the council's policy of {days} working "
                f"day{'' if days == 1 else 's'} ({_day(due)}).",
                "first_contact_deadline",
            )
            return


def first_contact_deadlines(
    session: Session | None, d: Diagram, scope: Scope, target: Target
) -> Iterator[Problem]:
    """The first-contact task is due, and escalated, no later than the council's policy."""
    rule = "first_contact_deadline"
    for task in (n for s in d.scopes for n in s.nodes if target(n)):
        due = spiff_props(task).get("due", "").strip()
        if not due:
            yield Problem(
                task.get("id"),
                kind(task),
                "The first-contact task has no deadline: "
                "set its 'due' property to first_contact_due.",
                rule,
            )
        else:
            yield from _late(session, task, "deadline", due, "due")
        timers = [
            (b, t)
            for b in d.scope_of[task.get("id")].attached.get(task.get("id"), [])
            for t in b.iterfind("{*}timerEventDefinition/*")
        ]
        if not timers:
            yield Problem(
                task.get("id"),
                kind(task),
                "Nothing happens when the first-contact "
                "deadline passes: attach a timer event at first_contact_due that "
                "escalates to the team leader.",
                rule,
            )
        for event, timer in timers:
            yield from _late(session, event, "timer", (timer.text or "").strip(), local(timer))
