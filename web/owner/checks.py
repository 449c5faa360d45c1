"""What stops a diagram from being saved as runnable or published, in a process owner's words.

Every problem is a dict ``{element_id, element_type, message, rule, severity}`` so the editor
can put it on its element. The engine's and the product's rules (``tasks.diagram_checks``)
are the ones the API's drafts and ``asb diagrams validate`` use: each rule is written once,
in Python, and ``DraftBook`` runs them on every save and before publishing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from engine.forms import load_directory as load_forms
from engine.models import DefinitionVersion
from tasks.diagram_checks import check_diagram
from web.api.drafts import Draft, DraftBook, read_document
from web.extensions import case_engine

Problem = dict[str, str]


def bpmn_dir() -> Path:
    """The folder of the shipped diagrams and forms."""
    return Path(current_app.config["BPMN_DIR"])


def book() -> DraftBook:
    """The draft book over the app's definition store and the shipped diagrams."""
    return DraftBook(case_engine().definitions, bpmn_dir())


def _normalised(problem: dict[str, Any], rule: str) -> Problem:
    return {
        "element_id": str(problem.get("element_id") or ""),
        "element_type": str(problem.get("element_type") or ""),
        "message": str(problem.get("message") or ""),
        "rule": str(problem.get("rule") or rule),
        "severity": str(problem.get("severity") or "error"),
    }


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    found = []
    for problem in problems:
        key = (problem["element_id"], problem["message"])
        if key not in seen:
            seen.add(key)
            found.append(problem)
    return found


def normalised(problems: list[dict[str, Any]]) -> list[Problem]:
    """Problems as the pages and the editor show them, each once."""
    return _unique([_normalised(p, "engine") for p in problems])


def problems_of(session: Session, raw: bytes) -> list[Problem]:
    """The rules and promises a BPMN document breaks (``tasks.diagram_checks``), quickly.

    This is the editor's live check; saving a draft also parses the document with the
    shipped diagrams (``DraftBook.analyse``), which may find more.
    """
    doc = read_document(raw)
    if doc.kind == "dmn":
        return []  # a decision table is checked with the processes that call it
    forms = load_forms(bpmn_dir() / "forms")
    return normalised(
        [p.as_dict() for p in check_diagram(session, doc.raw, bpmn_dir=bpmn_dir(), forms=forms)]
    )


def draft_problems(session: Session, row: DefinitionVersion) -> tuple[Draft, list[Problem]]:
    """The upload ``row`` belongs to, and everything that stops it from being published."""
    draft = book().draft_of(session, row)
    return draft, normalised(draft.problems)


def errors_only(problems: list[Problem]) -> list[Problem]:
    """The problems that refuse publishing (warnings only advise)."""
    return [p for p in problems if p["severity"] == "error"]
