"""A dry run's trace as the page shows it: each step in words, and the marks for the diagram."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from web.admin.common import uk_time

# Elements worth naming in "the engine ran": work done, deadlines and messages, not plumbing.
NAMED_TYPES = (
    "ServiceTask",
    "BusinessRuleTask",
    "ScriptTask",
    "SendTask",
    "ReceiveTask",
    "BoundaryEvent",
    "IntermediateCatchEvent",
    "IntermediateThrowEvent",
    "CallActivity",
)
OUTCOMES = {
    "completed": "The process under test ran to its end.",
    "stuck": "The run stopped before the end.",
    "incident": "The run stopped at a failed step.",
    "step_limit": "The run stopped at the step limit.",
    "failed": "The dry run could not run.",
}
CHANNELS = {
    "email": "E-mail",
    "sms": "Text message",
    "letter": "Letter",
    "phone_task": "Phone call task",
}
CASE_WORDS = {
    "priority": "Priority",
    "status": "Case status",
    "stage": "Stage",
    "case_officer": "Case officer",
    "team": "Team",
    "area": "Area",
    "safeguarding": "Safeguarding flag",
    "first_contact_due_at": "First contact due",
    "first_contact_at": "First contact made",
    "first_contact_breached_at": "First-contact deadline missed",
    "next_update_due_at": "Next update to the reporter due",
    "closed_at": "Closed",
    "closure_reason": "Closure reason",
}
MAX_VALUE = 120
AT_RISK = {"child": "a child", "adult": "an adult"}


def when(value: str | None) -> str:
    """ISO text as people in England read it."""
    return uk_time(datetime.fromisoformat(value)) if value else ""


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, str):
        try:
            return when(value) if "T" in value and value[:4].isdigit() else value
        except ValueError:
            return value
    text = json.dumps(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def _task(task: dict[str, Any]) -> str:
    who = task.get("assignee") or (
        f"anyone who is {str(task['role']).replace('_', ' ')}" if task.get("role") else "anyone"
    )
    due = f", due {when(task['due'])}" if task.get("due") else ", no deadline"
    return f"{task['title']} – for {who}{due}"


def _letter(letter: dict[str, Any], at: str | None) -> dict[str, Any]:
    kind = CHANNELS.get(letter["channel"], letter["channel"])
    later = letter.get("not_before") and (at is None or letter["not_before"] > at)
    held = f", held until {when(letter['not_before'])} (a safe time for the reporter)"
    held = held if later else ""
    return {
        "summary": f"{kind} to the {letter['recipient']}: "
        f"{str(letter['template']).replace('_', ' ')}{held}",
        "subject": letter.get("subject") or "",
        "text": letter.get("text") or "",
    }


def _referral(ref: dict[str, Any]) -> str:
    who = (
        f", about {AT_RISK.get(ref['at_risk'], ref['at_risk'])} at risk"
        if ref.get("at_risk")
        else ""
    )
    shared = ", ".join(str(d).replace("_", " ") for d in ref.get("disclosed") or []) or "nothing"
    return (
        f"{str(ref['kind']).capitalize()} referral to {ref['agency_name']}{who} "
        f"(legal basis: {str(ref['legal_basis']).replace('_', ' ')}; shared: {shared})"
    )


def step_words(step: dict[str, Any]) -> dict[str, Any]:
    """One step in words for the list under the diagram."""
    ran = [r["name"] for r in step.get("ran_names", []) if r.get("type") in NAMED_TYPES]
    answers = [f"{k}: {_value(v)}" for k, v in (step.get("answers") or {}).items()]
    changes = [
        f"{CASE_WORDS[k]}: {_value(v)}"
        for k, v in (step.get("case_changes") or {}).items()
        if k in CASE_WORDS
    ]
    return {
        "number": step["number"],
        "title": step["title"],
        "at": when(step.get("at")),
        "kind": step.get("kind"),
        "ran": ran,
        "answers": answers,
        "case": changes,
        "opened": [_task(t) for t in step.get("opened", [])],
        "open": [_task(t) for t in step.get("open", [])],
        "timers": [f"{t['name']} – at {when(t['due'])}" for t in step.get("timers", [])],
        "letters": [_letter(m, step.get("at")) for m in step.get("letters", [])],
        "referrals": [_referral(r) for r in step.get("referrals", [])],
        "problems": [i["words"] for i in step.get("incidents", [])]
        + [c["words"] for c in step.get("caught", [])],
    }


def page_trace(trace: dict[str, Any]) -> dict[str, Any]:
    """The trace's outcome and steps in words."""
    steps = [step_words(s) for s in trace.get("steps", [])]
    return {
        "outcome": trace.get("outcome", "failed"),
        "headline": OUTCOMES.get(str(trace.get("outcome")), OUTCOMES["failed"]),
        "summary": trace.get("summary", ""),
        "incidents": trace.get("incidents", []),
        "reference": trace.get("reference"),
        "steps": steps,
        "letters": sum(len(s["letters"]) for s in steps),
        "referrals": sum(len(s["referrals"]) for s in steps),
        "tasks": sum(len(s["opened"]) for s in steps),
    }


def diagram_data(trace: dict[str, Any]) -> dict[str, Any]:
    """What the script draws: the diagrams and, per step, the elements to mark."""
    keys = ("number", "title", "focus", "ran", "flows", "current", "watching")
    return {
        "diagrams": trace.get("diagrams", {}),
        "process_files": trace.get("process_files", {}),
        "process_names": trace.get("process_names", {}),
        "steps": [{k: s.get(k) for k in keys} for s in trace.get("steps", [])],
    }
