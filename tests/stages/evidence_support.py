"""Drivers for the evidence stage tests: the real engine, the shipped diagrams, and asb_case
with the two nodes this stage asks the lead to insert (docs/stages/evidence.md, "Wiring")."""

from __future__ import annotations

import re
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases.audit import AuditEvent
from cases.evidence import EvidenceKind, add_evidence
from cases.operations import case_by_reference
from engine import clock
from engine.models import ProcessInstance
from tasks.evidence_requests import evidence_added
from tasks.stages import start_stage
from tasks.wiring import build_engine
from tests.lifecycle_support import Lifecycle

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
# This stage's files and asb_case; whatever they call (part 1, other stages) is added.
FILES = ("asb_case.bpmn", "phone_call.bpmn", "evidence.bpmn", "first_contact_deadline.bpmn")
FORM_RE = re.compile(rb'name="form" value="([a-z_]+)"')
CALLED_RE = re.compile(rb'calledElement="([A-Za-z0-9_]+)"')
DECISION_RE = re.compile(rb"<spiffworkflow:calledDecisionId>([A-Za-z0-9_]+)<")


def _defined(pattern: bytes, suffix: str) -> dict[str, str]:
    """Which shipped file defines each process (or decision) id."""
    found: dict[str, str] = {}
    for path in sorted(BPMN.glob(f"*{suffix}")):
        for match in re.finditer(pattern, path.read_bytes()):
            found.setdefault(match.group(1).decode(), path.name)
    return found


def patched_asb_case() -> bytes:
    """asb_case as this stage needs it (docs/stages/evidence.md, "Wiring"):
    ``triage.move_deadlines`` after the reviewed assessment, and a ``diary_entry`` event
    subprocess ending with ``diary.record_review``. Adds only what the shipped description
    lacks."""
    scripts = str(ROOT / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    import bpmn_layout as layout

    doc = layout.asb_case()
    (proc,) = doc.processes
    ids = {n.id for n in layout.walk(proc.nodes)}
    if "move_deadlines" not in ids:
        _append(layout, next(n for n in proc.nodes if n.id == "circumstances_changed"),
                "record_reviewed_assessment",
                layout.service("move_deadlines", "Move deadlines if the priority rose",
                               "triage.move_deadlines", (6.5, 2.4)))
    if "diary_entry_received" not in ids:
        officer = next(lane.id for lane in proc.lanes if lane.name == "officer")
        proc.nodes.append(layout.event_subprocess(
            "diary_entry_received", "Diary entry", "diary_entry", "Diary entry sent",
            [layout.service("load_officer_for_diary", "Look up the case officer",
                            "assignment.current_officer", (0, 0)),
             layout.service("record_diary_entry", "Record the diary entry",
                            "diary.record_entry", (0, 0)),
             layout.user("review_diary_entry", "Review the diary entry", (0, 0),
                         due="due_after_working_days(now(), 1)", assignee="case_officer")],
            "Diary entry reviewed", officer, 8.5, 1.75))
        doc.messages.append("diary_entry")
        ids.add("diary_entry_received")
    if "record_diary_review" not in ids:
        _append(layout, next(n for n in proc.nodes if n.id == "diary_entry_received"),
                "review_diary_entry",
                layout.service("record_diary_review", "Record the review",
                               "diary.record_review", (12.5, 1.75)))
    return layout.serialise(layout.Writer(doc).write())


def _append(layout: Any, subprocess: Any, after: str, node: Any) -> None:
    """Put ``node`` in ``subprocess`` right after the node ``after``."""
    (flow,) = [f for f in subprocess.flows if f.src == after]
    subprocess.flows.remove(flow)
    subprocess.nodes.append(node)
    subprocess.flows += layout.chain(after, node.id, flow.tgt)


def diagram_dir(target: Path, *, patched: bool) -> Path:
    """This stage's diagrams, asb_case (patched or not) and what they call, with their forms."""
    (target / "forms").mkdir(parents=True, exist_ok=True)
    processes = _defined(rb'<bpmn:process id="([A-Za-z0-9_]+)"', ".bpmn")
    decisions = _defined(rb'<decision id="([A-Za-z0-9_]+)"', ".dmn")
    todo, done = list(FILES), set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        content = (BPMN / name).read_bytes()
        if name == "asb_case.bpmn" and patched:
            content = patched_asb_case()
        (target / name).write_bytes(content)
        if name.endswith(".dmn"):
            continue
        todo += [processes[c.decode()] for c in CALLED_RE.findall(content)]
        todo += [decisions[d.decode()] for d in DECISION_RE.findall(content)]
        for key in FORM_RE.findall(content):
            form = f"{key.decode()}.json"
            shutil.copy(BPMN / "forms" / form, target / "forms" / form)
    return target


class EvidenceLife(Lifecycle):
    """The part 1 driver on a chosen diagram directory, with evidence helpers."""

    def __init__(self, session: Any, directory: Path):  # not super(): another directory
        self.session = session
        self.engine = build_engine()
        self.engine.definitions.sync_directory(session, directory)

    def ask(self, reference: str, **form: Any) -> ProcessInstance:
        """Start the stage as olivia and fill in the request."""
        row = start_stage(self.session, self.engine, reference, "asb_evidence_request",
                          actor="olivia")
        data = {"kinds": {"diary_sheet": True, "photo": True, "audio": False},
                "reason": "To show how late the music goes on and how often.", **form}
        self.complete(reference, "ask_for_evidence", data)
        return row

    def upload(self, reference: str, kind: EvidenceKind = EvidenceKind.PHOTO) -> int:
        """An officer adds a file to the case; the waiting request is told."""
        case = case_by_reference(self.session, reference)
        item = add_evidence(self.session, case, kind=kind, original_name="garden.jpg",
                            stored_name=uuid.uuid4().hex, content_type="image/jpeg", size=10,
                            sha256="0" * 64, actor="olivia", at=clock.now(), description=None)
        evidence_added(self.session, self.engine, reference, item.id, actor="olivia")
        return item.id

    def audit(self, reference: str, prefix: str) -> list[str]:
        return [a.action for a in self.session.scalars(select(AuditEvent).where(
            AuditEvent.case_reference == reference, AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id))]

    def instances(self, reference: str, process_id: str) -> list[ProcessInstance]:
        return list(self.session.scalars(select(ProcessInstance).where(
            ProcessInstance.business_key == reference,
            ProcessInstance.process_id == process_id).order_by(ProcessInstance.id)))
