"""The diagrams behind the instance pages: which file draws a process, its steps, the heatmap.

Only element ids, names, counts and times leave here, never task data. XML is parsed with
entities, DTDs and the network off, and files over 5 MB are not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instance_view import StepFigures
from engine.models import DefinitionVersion

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
MAX_BYTES = 5 * 1024 * 1024
HEAT_LEVELS = 5
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_HUMAN = ("userTask", "manualTask")


@dataclass(frozen=True)
class ProcessIndex:
    """What one ``<process>`` of a file holds: its elements, human steps and calls."""

    process_id: str
    name: str
    elements: frozenset[str]
    steps: tuple[tuple[str, str], ...]  # (element id, name) of user and manual tasks
    calls: tuple[tuple[str, str], ...]  # (call activity id, called process id)


@lru_cache(maxsize=256)
def index_file(xml: str) -> dict[str, ProcessIndex]:
    """The processes a BPMN file defines, by id (empty for a file that cannot be read)."""
    if len(xml) > MAX_BYTES:
        return {}
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser=_SAFE_XML)
    except etree.XMLSyntaxError:
        return {}
    found = {}
    for process in root.iter(f"{BPMN}process"):
        pid = process.get("id") or ""
        elements = frozenset(e.get("id") or "" for e in process.iter() if e.get("id"))
        steps = tuple((e.get("id") or "", " ".join((e.get("name") or e.get("id") or "").split()))
                      for kind in _HUMAN for e in process.iter(f"{BPMN}{kind}"))
        calls = tuple((e.get("id") or "", e.get("calledElement") or "")
                      for e in process.iter(f"{BPMN}callActivity"))
        found[pid] = ProcessIndex(pid, process.get("name") or pid, elements, steps, calls)
    return found


def _in_sources(sources: dict[str, str] | None, process_id: str) -> tuple[str, str] | None:
    for name, xml in sorted((sources or {}).items()):
        if name.endswith(".bpmn") and process_id in index_file(xml):
            return name, xml
    return None


def diagram_of(session: Session, version: DefinitionVersion, process_id: str
               ) -> tuple[str, str] | None:
    """The key and XML of the file drawing ``process_id`` as ``version`` runs it.

    An uploaded diagram stores only its own file; the stages it calls come from the shipped
    files, which the called process's published version holds (as on the case file).
    """
    found = _in_sources(version.sources, process_id)
    if found is not None:
        return f"{version.id}/{found[0]}", found[1]
    published = session.scalar(
        select(DefinitionVersion).where(DefinitionVersion.process_id == process_id,
                                        DefinitionVersion.published.is_(True))
        .order_by(DefinitionVersion.published_at.desc(), DefinitionVersion.version.desc())
        .limit(1))
    found = _in_sources(published.sources if published else None, process_id)
    if found is None or published is None:
        return None
    return f"{published.id}/{found[0]}", found[1]


_steps_of: dict[tuple[int, ...], list[tuple[str, str]]] = {}


def step_choices(session: Session) -> list[tuple[str, str]]:
    """Every human step of the published processes, for the list's "current step" filter.

    A stored version never changes, so the answer is kept per set of published versions.
    """
    published = tuple(session.scalars(select(DefinitionVersion.id).where(
        DefinitionVersion.published.is_(True)).order_by(DefinitionVersion.id)))
    found = _steps_of.get(published)
    if found is None:
        found = _steps(session, published)
        _steps_of.clear()
        _steps_of[published] = found
    return found


def _steps(session: Session, ids: tuple[int, ...]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for version in session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.id.in_(ids)).order_by(DefinitionVersion.process_id)):
        for name, xml in sorted((version.sources or {}).items()):
            if not name.endswith(".bpmn"):
                continue
            for process in index_file(xml).values():
                for element_id, title in process.steps:
                    seen.setdefault(element_id, f"{title} ({element_id})")
    return sorted(seen.items(), key=lambda item: item[1].lower())


def duration_words(seconds: float | None) -> str:
    """A span of time in words: '2 days 3 hours', '45 minutes', 'under a minute'."""
    if seconds is None:
        return ""
    left = int(abs(seconds))
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes = left // 60
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in
             ((days, "day"), (hours, "hour"), (minutes, "minute")) if n][:2]
    return " ".join(parts) or "under a minute"


@dataclass
class HeatView:
    """One diagram of a version's heatmap: counts and mean times per element."""

    key: str
    label: str
    process_id: str
    diagram: str
    index: ProcessIndex
    counts: dict[str, dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        """The view as ``instance_diagram.js`` reads it."""
        return {"key": self.key, "label": self.label, "process_id": self.process_id,
                "diagram": self.diagram, "counts": self.counts}


def heat_views(session: Session, version: DefinitionVersion, figures: list[StepFigures]
               ) -> tuple[list[HeatView], dict[str, str]]:
    """The version's diagrams (its process, then those it calls) with the figures placed."""
    views: list[HeatView] = []
    diagrams: dict[str, str] = {}
    queue, seen = [version.process_id], set()
    while queue:
        pid = queue.pop(0)
        if pid in seen:
            continue
        seen.add(pid)
        found = diagram_of(session, version, pid)
        if found is None:
            continue
        key, xml = found
        index = index_file(xml)[pid]
        diagrams[key] = xml
        label = "Whole process" if not views else index.name
        views.append(HeatView(f"v{len(views)}", label, pid, key, index, {}))
        queue += [called for _, called in index.calls]
    _place(views, figures)
    return views, diagrams


def _place(views: list[HeatView], figures: list[StepFigures]) -> None:
    """Put each step's figures on the view drawing it, and roll counts up to call activities."""
    by_process = {v.process_id: v for v in views}
    for step in figures:
        homes = [v for v in views if step.element_id in v.index.elements]
        if not homes:
            continue
        home = next((v for v in homes if v.process_id == step.process_id), homes[0])
        cell = home.counts.setdefault(step.element_id, {"now": 0, "incidents": 0})
        cell["now"] += step.now
        cell["incidents"] += step.incidents
        if step.average_seconds is not None:
            cell["average"] = duration_words(step.average_seconds)
            cell["average_seconds"] = step.average_seconds
            cell["finished"] = step.finished

    def inside(pid: str, trail: frozenset[str]) -> int:
        view = by_process.get(pid)
        if view is None or pid in trail:
            return 0
        own = sum(c["now"] + c["incidents"] for eid, c in view.counts.items()
                  if eid not in dict(view.index.calls))
        return own + sum(inside(called, trail | {pid}) for _, called in view.index.calls)

    for view in views:
        for call_id, called in view.index.calls:
            total = inside(called, frozenset({view.process_id}))
            if total:
                view.counts.setdefault(call_id, {"now": 0, "incidents": 0})["now"] = total
    for view in views:
        top = max((c["now"] + c["incidents"] for c in view.counts.values()), default=0)
        for cell in view.counts.values():
            here = cell["now"] + cell["incidents"]
            cell["level"] = 0 if not here else max(1, -(-HEAT_LEVELS * here // top))
