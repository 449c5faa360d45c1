"""What the editor's properties panel offers: forms, operators, roles, processes, decisions.

The panel (``web/static/js/owner/panel.js``) reads this as JSON from the page, so each list
comes from the product itself: the form schemas under ``bpmn/forms``, the service-task
handlers ``tasks/`` registers (with the parameters their Python signature takes), the roles
lanes may name, the processes and decision tables stored or shipped, and the helper
functions timer and deadline expressions may call.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from cases.people import Role
from engine.forms import load_directory as load_forms
from tasks.registry import handlers
from tasks.wiring import DIAGRAM_GLOBALS

from . import catalog
from .checks import bpmn_dir

ROLE_WORDS = {
    Role.OFFICER: "Officers",
    Role.TEAM_LEADER: "Team leaders",
    Role.PROCESS_OWNER: "Process owners",
    Role.MANAGER: "Managers",
    Role.ADMIN: "Administrators",
    Role.PARTNER: "Partner agency users",
}


def _first_line(fn: Callable[..., Any]) -> str:
    return (inspect.getdoc(fn) or "").split("\n", 1)[0].strip()


def _parameters(fn: Callable[..., Any]) -> list[dict[str, Any]]:
    """The keyword parameters a handler takes after its context."""
    try:
        params = list(inspect.signature(fn).parameters.values())[1:]
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [
        {"name": p.name, "required": p.default is inspect.Parameter.empty}
        for p in params
        if p.kind in kinds
    ]


def operators() -> list[dict[str, Any]]:
    """Every registered service-task operation, with its summary and parameters."""
    found = []
    for name in sorted(handlers.names()):
        fn = handlers.get(name)
        found.append({"name": name, "summary": _first_line(fn), "params": _parameters(fn)})
    return found


def helpers() -> list[dict[str, str]]:
    """The functions expressions may call, with their parameters and what they give."""
    found = []
    for name, fn in sorted(DIAGRAM_GLOBALS.items()):
        try:
            params = ", ".join(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            params = "..."
        summary = _first_line(fn).removeprefix("Diagram helper: ")
        found.append(
            {
                "name": name,
                "call": f"{name}({params})",
                "summary": summary[:1].upper() + summary[1:],
            }
        )
    return found


def forms() -> list[dict[str, str]]:
    """The task forms a user task may name, with their titles."""
    return [
        {"key": key, "title": str(schema.get("title") or key)}
        for key, schema in sorted(load_forms(bpmn_dir() / "forms").items())
        if isinstance(schema, dict)
    ]


def editor_catalog(session: Session) -> dict[str, Any]:
    """Everything the properties panel offers, as JSON."""
    return {
        "forms": forms(),
        "operators": operators(),
        "roles": [{"value": r.value, "label": ROLE_WORDS[r]} for r in Role],
        "processes": [{"id": p.process_id, "name": p.name} for p in catalog.processes(session)],
        "decisions": [
            {"id": d.decision_id, "name": d.name} for d in catalog.decisions(session, bpmn_dir())
        ],
        "helpers": helpers(),
    }
