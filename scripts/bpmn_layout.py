#!/usr/bin/env python3
"""Write the lifecycle diagrams of docs/lifecycle.md (BPMN with full layout, and the DMN).

The XML under ``bpmn/`` is the source of truth: process owners edit it in a modeller and by
hand. This script is a convenience that produced it from the compact description below
(positions on a grid, lanes as row ranges) and writes the diagram interchange (shapes,
edges with orthogonal waypoints, labels) so the files open cleanly in bpmn-js.

    python scripts/bpmn_layout.py            # write bpmn/*.bpmn and bpmn/triage_priority.dmn
    python scripts/bpmn_layout.py --check    # exit 1 when the files differ from the description

Once someone edits a file by hand, stop regenerating it (or port the edit here first):
``--check`` tells which files have drifted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "spiffworkflow": SPIFF,
         "xsi": XSI}
TARGET_NAMESPACE = "http://asb.example/bpmn/lifecycle"

DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMNDI = "https://www.omg.org/spec/DMN/20191111/DMNDI/"
DMN_DC = "http://www.omg.org/spec/DMN/20180521/DC/"

OUT_DIR = Path(__file__).resolve().parent.parent / "bpmn"

# -- the grid ------------------------------------------------------------------------------

COL, ROW = 150, 120          # one grid step, in pixels
X0, Y0 = 260, 140            # centre of the cell (0, 0)
POOL_HEADER = 30             # the vertical band with the pool's name
MARGIN = 50                  # free space between the outermost shapes and the pool border

SIZES = {
    "task": (100, 80), "event": (36, 36), "gateway": (50, 50),
}
KIND_SIZE = {
    "start": "event", "end": "event", "throw": "event", "boundary": "event", "catch": "event",
    "xor": "gateway", "and": "gateway",
    "user": "task", "service": "task", "rule": "task", "call": "task", "receive": "task",
}
TAGS = {
    "start": "startEvent", "end": "endEvent", "throw": "intermediateThrowEvent",
    "boundary": "boundaryEvent", "catch": "intermediateCatchEvent",
    "xor": "exclusiveGateway", "and": "parallelGateway",
    "user": "userTask", "service": "serviceTask", "rule": "businessRuleTask",
    "call": "callActivity", "receive": "receiveTask", "sub": "subProcess",
}


def gx(col: float) -> float:
    return X0 + col * COL


def gy(row: float) -> float:
    return Y0 + row * ROW


# -- the description model -----------------------------------------------------------------


@dataclass
class Node:
    """A flow node; ``at`` is its centre on the grid, ``box`` the edges of a subprocess."""

    id: str
    kind: str
    name: str
    at: tuple[float, float] = (0.0, 0.0)
    lane: str | None = None
    doc: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    operation: str | None = None
    called: str | None = None
    decision: str | None = None
    message: str | None = None          # message name caught (start, receive)
    message_var: str | None = None      # where a caught message's payload lands
    signal: str | None = None           # signal name thrown or caught
    timer: str | None = None            # timeDate expression
    terminate: bool = False
    interrupting: bool = True           # start events of event subprocesses, boundaries
    host: str | None = None             # boundary events: the activity they sit on
    pos: float = 0.5                    # boundary events: where on the host's bottom edge
    label: str = "below"                # where an event's or gateway's name goes
    box: tuple[float, float, float, float] | None = None   # subprocess: col0, row0, col1, row1
    nodes: list[Node] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    triggered: bool = False             # event subprocess


@dataclass
class Flow:
    """A sequence flow; ``channel`` routes it along a row (loops and bypasses)."""

    src: str
    tgt: str
    name: str | None = None
    cond: str | None = None
    default: bool = False
    channel: float | None = None

    @property
    def id(self) -> str:
        return f"Flow_{self.src}_{self.tgt}"


@dataclass
class Lane:
    id: str
    name: str
    rows: tuple[float, float]


@dataclass
class Process:
    id: str
    name: str
    rows: tuple[float, float]
    nodes: list[Node]
    flows: list[Flow]
    lanes: list[Lane] = field(default_factory=list)
    doc: str | None = None


@dataclass
class Document:
    filename: str
    processes: list[Process]
    messages: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)


# -- geometry ------------------------------------------------------------------------------

Box = tuple[float, float, float, float]   # x, y, width, height
Point = tuple[float, float]


def bounds(node: Node, hosts: dict[str, Box] | None = None) -> Box:
    """The shape bounds of a node in pixels."""
    if node.kind == "sub":
        assert node.box is not None, node.id
        c0, r0, c1, r1 = node.box
        return gx(c0), gy(r0), gx(c1) - gx(c0), gy(r1) - gy(r0)
    w, h = SIZES[KIND_SIZE[node.kind]]
    if node.kind == "boundary":
        if hosts is None or node.host not in hosts:
            raise ValueError(f"boundary event {node.id} has no host {node.host!r}")
        hx, hy, hw, hh = hosts[node.host]
        cx, cy = hx + node.pos * hw, hy + hh
    else:
        cx, cy = gx(node.at[0]), gy(node.at[1])
    return cx - w / 2, cy - h / 2, w, h


def centre(b: Box) -> Point:
    return b[0] + b[2] / 2, b[1] + b[3] / 2


def dock(b: Box, side: str) -> Point:
    x, y, w, h = b
    return {"left": (x, y + h / 2), "right": (x + w, y + h / 2),
            "top": (x + w / 2, y), "bottom": (x + w / 2, y + h)}[side]


def route(flow: Flow, src: Node, sb: Box, tgt: Node, tb: Box) -> list[Point]:
    """Orthogonal waypoints from the source's border to the target's border."""
    (sx, sy), (tx, ty) = centre(sb), centre(tb)
    if flow.channel is not None:
        ch = gy(flow.channel)
        p0 = dock(sb, "top" if ch < sy else "bottom")
        p3 = dock(tb, "top" if ch < ty else "bottom")
        return [p0, (p0[0], ch), (p3[0], ch), p3]
    if src.kind == "boundary":
        p0 = dock(sb, "bottom")
        if abs(p0[0] - tx) < 1 and ty > p0[1]:
            return [p0, dock(tb, "top")]
        if ty < p0[1]:        # back up to a target above the host (a join)
            drop = p0[1] + 25
            return [p0, (p0[0], drop), (tx, drop), dock(tb, "bottom")]
        return [p0, (p0[0], ty), dock(tb, "left" if tx > p0[0] else "right")]
    if abs(sx - tx) < 1:      # same column
        return [dock(sb, "bottom"), dock(tb, "top")] if ty > sy else [
            dock(sb, "top"), dock(tb, "bottom")]
    forward = tx > sx
    # A straight line when the shapes overlap vertically (subprocess borders are long).
    s_top, s_bot, t_top, t_bot = sb[1], sb[1] + sb[3], tb[1], tb[1] + tb[3]
    if abs(sy - ty) < 1 or (src.kind == "sub" and s_top + 20 < ty < s_bot - 20) or (
            tgt.kind == "sub" and t_top + 20 < sy < t_bot - 20):
        y = ty if src.kind == "sub" else sy
        if forward:
            return [(sb[0] + sb[2], y), (tb[0], y)]
        return [(sb[0], y), (tb[0] + tb[2], y)]
    if src.kind in ("xor", "and"):
        p0 = dock(sb, "top" if ty < sy else "bottom")
        return [p0, (p0[0], ty), dock(tb, "left" if forward else "right")]
    if tgt.kind in ("xor", "and"):
        p3 = dock(tb, "top" if sy < ty else "bottom")
        return [dock(sb, "right" if forward else "left"), (p3[0], sy), p3]
    p0, p3 = dock(sb, "right"), dock(tb, "left")
    mid = (p0[0] + p3[0]) / 2
    return [p0, (mid, p0[1]), (mid, p3[1]), p3]


def text_box(text: str, width: float = 90) -> tuple[float, float]:
    """A rough size for a label: 6 px a character, wrapped, 14 px a line."""
    words, lines, line = text.split(), 1, 0.0
    for word in words:
        size = 6 * (len(word) + 1)
        if line and line + size > width:
            lines, line = lines + 1, size
        else:
            line += size
    w = min(width, max(6.0 * len(text), 20.0))
    return w, 14 * lines


def node_label(node: Node, b: Box) -> Box | None:
    if node.kind not in ("start", "end", "throw", "boundary", "xor", "and"):
        return None
    (cx, cy), half = centre(b), b[3] / 2
    w, h = text_box(node.name)
    if node.kind == "boundary":
        w, h = text_box(node.name, 100)
        return cx + 8, cy + half + 4, w, h
    if node.label == "above":
        return cx - w / 2, cy - half - 6 - h, w, h
    if node.label == "below-right":
        return cx + 8, cy + half + 4, w, h
    return cx - w / 2, cy + half + 6, w, h


def flow_label(flow: Flow, points: list[Point]) -> Box | None:
    if not flow.name:
        return None
    (x0, y0), (x1, y1) = points[0], points[1]
    w, h = text_box(flow.name, 60)
    if abs(x0 - x1) < 1:   # vertical first leg: beside it
        y = min(y0, y1) + abs(y1 - y0) / 2 - h / 2
        return x0 + 5, y, w, h
    x = min(x0, x1) + 6
    return x, y0 - h - 3, w, h


# -- writing BPMN --------------------------------------------------------------------------


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def sub(parent: etree._Element, ns: str, tag: str, text: str | None = None,
        **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, q(ns, tag), {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def fmt(value: float) -> str:
    return str(int(round(value)))


def walk(nodes: Iterable[Node]) -> Iterator[Node]:
    for node in nodes:
        yield node
        yield from walk(node.nodes)


class Writer:
    """Build one BPMN document from its description."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.root = etree.Element(q(BPMN, "definitions"), nsmap=NSMAP)
        self.root.set("id", "Definitions_" + doc.filename.removesuffix(".bpmn"))
        self.root.set("targetNamespace", TARGET_NAMESPACE)
        self.root.set("exporter", "scripts/bpmn_layout.py")
        self.root.set("exporterVersion", "1")
        self.boxes: dict[str, Box] = {}
        self.nodes: dict[str, Node] = {}

    # semantic part

    def write(self) -> etree._Element:
        for name in self.doc.messages:
            sub(self.root, BPMN, "message", id=f"Message_{name}", name=name)
        for name in self.doc.signals:
            sub(self.root, BPMN, "signal", id=f"Signal_{name}", name=name)
        collab = sub(self.root, BPMN, "collaboration",
                     id="Collaboration_" + self.doc.filename.removesuffix(".bpmn"))
        for proc in self.doc.processes:
            sub(collab, BPMN, "participant", id=f"Participant_{proc.id}", name=proc.name,
                processRef=proc.id)
        for proc in self.doc.processes:
            self.process(proc)
        self.diagram(collab.get("id"))
        return self.root

    def process(self, proc: Process) -> None:
        el = sub(self.root, BPMN, "process", id=proc.id, name=proc.name, isExecutable="true")
        if proc.doc:
            sub(el, BPMN, "documentation", proc.doc)
        if proc.lanes:
            lane_set = sub(el, BPMN, "laneSet", id=f"LaneSet_{proc.id}")
            for lane in proc.lanes:
                lane_el = sub(lane_set, BPMN, "lane", id=lane.id, name=lane.name)
                for node in proc.nodes:
                    lane_id = node.lane
                    if node.kind == "boundary":
                        lane_id = next(n.lane for n in proc.nodes if n.id == node.host)
                    if lane_id is None:
                        raise ValueError(f"{node.id} of {proc.id} is in no lane")
                    if lane_id == lane.id:
                        sub(lane_el, BPMN, "flowNodeRef", node.id)
        self.container(el, proc.nodes, proc.flows)

    def container(self, parent: etree._Element, nodes: list[Node], flows: list[Flow]) -> None:
        ids = {n.id for n in nodes}
        for flow in flows:
            if flow.src not in ids or flow.tgt not in ids:
                raise ValueError(f"{flow.id} leaves its container")
        for node in nodes:
            self.flow_node(parent, node, flows)
        for flow in flows:
            el = sub(parent, BPMN, "sequenceFlow", id=flow.id, name=flow.name,
                     sourceRef=flow.src, targetRef=flow.tgt)
            if flow.cond:
                expr = sub(el, BPMN, "conditionExpression", flow.cond)
                expr.set(q(XSI, "type"), "bpmn:tFormalExpression")

    @staticmethod
    def attributes(node: Node, flows: list[Flow]) -> dict[str, str | None]:
        attrs: dict[str, str | None] = {"id": node.id, "name": node.name}
        if node.kind == "call":
            attrs["calledElement"] = node.called
        elif node.kind == "receive":
            attrs["messageRef"] = f"Message_{node.message}"
        elif node.kind == "boundary":
            attrs["cancelActivity"] = "true" if node.interrupting else "false"
            attrs["attachedToRef"] = node.host
        elif node.kind == "start" and not node.interrupting:
            attrs["isInterrupting"] = "false"
        elif node.kind == "sub" and node.triggered:
            attrs["triggeredByEvent"] = "true"
        defaults = [f for f in flows if f.src == node.id and f.default]
        if defaults:
            attrs["default"] = defaults[0].id
        return attrs

    def flow_node(self, parent: etree._Element, node: Node, flows: list[Flow]) -> None:
        self.nodes[node.id] = node
        el = sub(parent, BPMN, TAGS[node.kind], **self.attributes(node, flows))
        if node.doc:
            sub(el, BPMN, "documentation", node.doc)
        self.extensions(el, node)
        for flow in flows:
            if flow.tgt == node.id:
                sub(el, BPMN, "incoming", flow.id)
        for flow in flows:
            if flow.src == node.id:
                sub(el, BPMN, "outgoing", flow.id)
        self.event_definition(el, node)
        if node.kind == "sub":
            self.container(el, node.nodes, node.flows)

    @staticmethod
    def extensions(el: etree._Element, node: Node) -> None:
        if node.kind == "user" and node.props:
            ext = sub(el, BPMN, "extensionElements")
            props = sub(ext, SPIFF, "properties")
            order = ("form", "assignee", "due")
            for key in sorted(node.props, key=lambda k: (order + (k,)).index(k)):
                sub(props, SPIFF, "property", name=key, value=node.props[key])
        elif node.kind == "service":
            ext = sub(el, BPMN, "extensionElements")
            operator = sub(ext, SPIFF, "serviceTaskOperator", id=node.operation,
                           resultVariable=f"{node.id}_result")
            sub(operator, SPIFF, "parameters")   # none: handlers read ctx.data
        elif node.kind == "rule":
            ext = sub(el, BPMN, "extensionElements")
            sub(ext, SPIFF, "calledDecisionId", node.decision)

    @staticmethod
    def event_definition(el: etree._Element, node: Node) -> None:
        if node.kind not in ("start", "end", "throw", "boundary", "catch"):
            return
        if node.message:
            defn = sub(el, BPMN, "messageEventDefinition", id=f"{node.id}_definition",
                       messageRef=f"Message_{node.message}")
            if node.message_var:
                ext = sub(defn, BPMN, "extensionElements")
                sub(ext, SPIFF, "messageVariable", node.message_var)
        elif node.signal:
            sub(el, BPMN, "signalEventDefinition", id=f"{node.id}_definition",
                signalRef=f"Signal_{node.signal}")
        elif node.timer:
            defn = sub(el, BPMN, "timerEventDefinition", id=f"{node.id}_definition")
            expr = sub(defn, BPMN, "timeDate", node.timer)
            expr.set(q(XSI, "type"), "bpmn:tFormalExpression")
        elif node.terminate:
            sub(el, BPMN, "terminateEventDefinition", id=f"{node.id}_definition")

    # diagram interchange

    def diagram(self, collab_id: str | None) -> None:
        diagram = sub(self.root, BPMNDI, "BPMNDiagram",
                      id="BPMNDiagram_" + self.doc.filename.removesuffix(".bpmn"))
        plane = sub(diagram, BPMNDI, "BPMNPlane", id="BPMNPlane_" + str(collab_id),
                    bpmnElement=collab_id)
        # Every pool of a file shares the same width, so stacked pools line up.
        all_nodes = [n for p in self.doc.processes for n in walk(p.nodes)]
        hosts: dict[str, Box] = {}
        for node in all_nodes:
            if node.kind != "boundary":
                hosts[node.id] = bounds(node)
        for node in all_nodes:
            self.boxes[node.id] = bounds(node, hosts)
        left = min(b[0] for b in self.boxes.values()) - MARGIN - POOL_HEADER
        right = max(b[0] + b[2] for b in self.boxes.values()) + MARGIN
        for proc in self.doc.processes:
            top, bottom = gy(proc.rows[0]), gy(proc.rows[1])
            self.shape(plane, f"Participant_{proc.id}", (left, top, right - left, bottom - top),
                       horizontal=True)
            for lane in proc.lanes:
                ly0, ly1 = gy(lane.rows[0]), gy(lane.rows[1])
                self.shape(plane, lane.id, (left + POOL_HEADER, ly0,
                                            right - left - POOL_HEADER, ly1 - ly0),
                           horizontal=True)
            for node in walk(proc.nodes):
                b = self.boxes[node.id]
                shape = self.shape(plane, node.id, b, expanded=node.kind == "sub")
                label = node_label(node, b)
                if label is not None:
                    self.label(shape, label)
            for flow in self.all_flows(proc):
                src, tgt = self.nodes[flow.src], self.nodes[flow.tgt]
                points = route(flow, src, self.boxes[src.id], tgt, self.boxes[tgt.id])
                edge = sub(plane, BPMNDI, "BPMNEdge", id=f"{flow.id}_di", bpmnElement=flow.id)
                for x, y in points:
                    sub(edge, DI, "waypoint", x=fmt(x), y=fmt(y))
                label = flow_label(flow, points)
                if label is not None:
                    self.label(edge, label)

    @staticmethod
    def all_flows(proc: Process) -> Iterator[Flow]:
        yield from proc.flows
        for node in walk(proc.nodes):
            yield from node.flows

    @staticmethod
    def shape(plane: etree._Element, element: str, b: Box, *, horizontal: bool = False,
              expanded: bool = False) -> etree._Element:
        shape = sub(plane, BPMNDI, "BPMNShape", id=f"{element}_di", bpmnElement=element)
        if horizontal:
            shape.set("isHorizontal", "true")
        if expanded:
            shape.set("isExpanded", "true")
        sub(shape, DC, "Bounds", x=fmt(b[0]), y=fmt(b[1]), width=fmt(b[2]), height=fmt(b[3]))
        return shape

    @staticmethod
    def label(parent: etree._Element, b: Box) -> None:
        label = sub(parent, BPMNDI, "BPMNLabel")
        sub(label, DC, "Bounds", x=fmt(b[0]), y=fmt(b[1]), width=fmt(b[2]), height=fmt(b[3]))


def serialise(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", pretty_print=True)


# -- the lifecycle -------------------------------------------------------------------------

OFFICER_TASK = {"assignee": "case_officer"}


def user(id_: str, name: str, at: tuple[float, float], lane: str | None = None,
         **props: str) -> Node:
    """A user task whose form is named after it."""
    return Node(id_, "user", name, at, lane=lane, props={"form": id_, **props})


def service(id_: str, name: str, operation: str, at: tuple[float, float],
            lane: str | None = None) -> Node:
    return Node(id_, "service", name, at, lane=lane, operation=operation)


def chain(*ids: str) -> list[Flow]:
    """Flows joining the given nodes one after the other."""
    return [Flow(a, b) for a, b in zip(ids, ids[1:], strict=False)]


def straight_process(pid: str, name: str, doc: str, steps: list[Node],
                     lane: Lane | None = None) -> Process:
    """A process that runs its steps in a row, from a start to an end event."""
    for step in steps:
        step.lane = lane.id if lane else None
    return Process(pid, name, (-0.8, 0.8) if lane is None else lane.rows, steps,
                   chain(*(s.id for s in steps)), [lane] if lane else [], doc=doc)


def intake() -> Document:
    steps = [
        Node("intake_started", "start", "Report recorded", (0, 0)),
        service("link_related_cases", "Link related cases", "intake.link_related_cases",
                (1.1, 0)),
        service("check_repeat_victim", "Check for a repeat victim",
                "intake.check_repeat_victim", (2.2, 0)),
        service("inform_case_review", "Tell a second-time reporter about the Case Review",
                "case_review.inform_on_second_report", (3.3, 0)),
        Node("intake_done", "end", "Intake checks done", (4.4, 0)),
    ]
    doc = ("Automatic checks on a new report: related open cases are linked, the reporter "
           "or address is checked for repeat victimisation, and a reporter whose second "
           "report this is within 6 months is told about the ASB Case Review.")
    return Document("intake.bpmn", [straight_process("asb_intake", "Intake checks", doc, steps)])


def triage() -> Document:
    steps = [
        Node("triage_started", "start", "Report to triage", (0, 0)),
        Node("decide_priority", "rule", "Decide the priority", (1.1, 0),
             decision="triage_priority",
             doc="Decision table triage_priority: priority 1 for hate, a child or vulnerable "
                 "adult at risk, a threat of violence, high risk or a repeat victim."),
        service("set_deadline", "Set the first-contact deadline", "triage.set_deadline",
                (2.2, 0)),
        Node("triage_done", "end", "Priority and deadline set", (3.3, 0)),
    ]
    officer = Lane("Lane_risk_officer", "officer", (1.0, 2.6))
    r = 1.8
    risk = [
        Node("risk_assessment_started", "start", "Officer assigned", (0, r)),
        user("assess_risk", "Assess the risk", (1.1, r), due="first_contact_due",
             **OFFICER_TASK),
        service("record_assessment", "Record the assessment", "triage.record_assessment",
                (2.2, r)),
        Node("risk_assessed", "end", "Risk assessed", (3.3, r)),
    ]
    return Document("triage.bpmn", [
        straight_process("asb_triage", "Triage", "Decides priority and the first-contact "
                         "deadline while the request that opens the case runs.", steps),
        straight_process("asb_risk_assessment", "Risk assessment",
                         "The officer's risk assessment: harm, vulnerability and community "
                         "impact. It may raise the priority, never lower it.", risk, officer),
    ])


def assignment() -> Document:
    steps = [
        Node("assignment_started", "start", "Case triaged", (0, 0)),
        service("assign_officer", "Assign a case officer", "assignment.assign_officer",
                (1.1, 0)),
        service("acknowledge", "Acknowledge the report", "notify.acknowledge", (2.2, 0)),
        Node("assignment_done", "end", "Officer assigned and reporter told", (3.3, 0)),
    ]
    return Document("assignment.bpmn", [straight_process(
        "asb_assignment", "Assignment", "Assigns the officer covering the area and sends the "
        "acknowledgement with the officer's details and the reporter's rights.", steps)])


def first_contact() -> Document:
    officer = Lane("Lane_first_contact_officer", "officer", (-0.8, 0.85))
    leader = Lane("Lane_first_contact_team_leader", "team_leader", (0.85, 2.45))
    r2 = 1.65
    nodes = [
        Node("first_contact_started", "start", "Risk assessed", (0, 0), lane=officer.id),
        user("first_contact", "Make first contact", (1.1, 0), lane=officer.id,
             due="first_contact_due", **OFFICER_TASK),
        Node("first_contact_deadline", "boundary", "First-contact deadline passed",
             host="first_contact", pos=0.7, timer="first_contact_due", interrupting=False),
        service("record_contact", "Record the first contact", "first_contact.record_contact",
                (2.4, 0), lane=officer.id),
        Node("first_contact_made", "end", "First contact made", (3.6, 0), lane=officer.id,
             terminate=True,
             doc="Terminate end event: ends the escalation branch too, if it is still open."),
        service("record_breach", "Record the missed deadline", "first_contact.record_breach",
                (2.4, r2), lane=leader.id),
        user("first_contact_overdue", "First contact is overdue", (3.6, r2), lane=leader.id,
             assignee="team_leader", due="due_after_working_days(now(), 1)"),
        Node("escalation_handled", "end", "Escalation handled", (4.8, r2), lane=leader.id),
    ]
    flows = chain("first_contact_started", "first_contact", "record_contact",
                  "first_contact_made") + chain(
        "first_contact_deadline", "record_breach", "first_contact_overdue",
        "escalation_handled")
    return Document("first_contact.bpmn", [Process(
        "asb_first_contact", "First contact", (officer.rows[0], leader.rows[1]), nodes, flows,
        [officer, leader],
        doc="First contact with the reporter by the deadline (1 working day for priority 1, "
            "5 for priority 2); a missed deadline escalates to the team leader.")])


def action_plan() -> Document:
    lane = Lane("Lane_action_plan_officer", "officer", (-0.8, 0.8))
    steps = [
        Node("action_plan_started", "start", "First contact made", (0, 0)),
        user("agree_action_plan", "Agree the action plan and updates", (1.1, 0),
             **OFFICER_TASK),
        service("record_plan", "Record the plan and update agreement", "plan.record_plan",
                (2.2, 0)),
        Node("action_plan_agreed", "end", "Plan agreed", (3.3, 0)),
    ]
    return Document("action_plan.bpmn", [straight_process(
        "asb_action_plan", "Action plan", "The action plan and how often the reporter is "
        "updated, agreed with the reporter.", steps, lane)])


def closure() -> Document:
    lane = Lane("Lane_closure_officer", "officer", (-0.8, 0.8))
    steps = [
        Node("closure_started", "start", "Casework finished", (0, 0)),
        user("close_case", "Close the case", (1.1, 0), **OFFICER_TASK),
        service("record_closure", "Close the case record", "closure.close_case", (2.2, 0)),
        service("notify_closure", "Send the closure notice", "notify.closure", (3.3, 0)),
        Node("closure_done", "end", "Case closed", (4.4, 0)),
    ]
    return Document("closure.bpmn", [straight_process(
        "asb_closure", "Closure", "Closes the case with its reason and tells the reporter, "
        "with the satisfaction question and the Case Review and complaint rights.", steps,
        lane)])


def event_subprocess(id_: str, name: str, message: str, start_name: str, steps: list[Node],
                     end_name: str, lane: str, col: float, row: float) -> Node:
    """A non-interrupting message event subprocess laid out in a row from (col, row)."""
    start = Node(f"{id_}_start", "start", start_name, (col, row), message=message,
                 message_var=message, interrupting=False)
    for i, step in enumerate(steps, start=1):
        step.at = (col + i, row)
    end = Node(f"{id_}_end", "end", end_name, (col + len(steps) + 1, row))
    nodes = [start, *steps, end]
    return Node(id_, "sub", name, lane=lane, triggered=True, nodes=nodes,
                flows=chain(*(n.id for n in nodes)),
                box=(col - 0.45, row - 0.52, col + len(steps) + 1.45, row + 0.6))


def casework(k: float) -> Node:
    """The embedded subprocess ``casework``; ``k`` is the column of its start event."""
    a, b = 1.55, 2.6          # the rows of keep_updated
    keep = Node(
        "keep_updated", "sub", "Keep the reporter updated", box=(k + 1.3, 0.8, k + 7.55, 3.35),
        nodes=[
            Node("updates_started", "start", "Updates start", (k + 1.75, a)),
            service("schedule_next", "Schedule the next update", "updates.schedule_next",
                    (k + 2.7, a)),
            Node("updates_agreed", "xor", "Updates agreed?", (k + 3.85, a), label="above"),
            Node("updates_stopped", "end", "No updates agreed", (k + 3.85, b)),
            Node("wait_for_update", "receive", "Wait for an update logged on the case file",
                 (k + 5.1, a), message="update_sent",
                 doc="Completes when the officer logs an update from the case file (message "
                     "update_sent); the next due date then moves."),
            Node("next_update_due", "boundary", "Next update due", host="wait_for_update",
                 pos=0.5, timer="next_update_due"),
            user("update_reporter", "Update the reporter", (k + 5.1, b),
                 due="next_update_due", **OFFICER_TASK),
            service("record_update", "Record the update", "updates.record_update",
                    (k + 6.5, b)),
        ],
        flows=[
            Flow("updates_started", "schedule_next"),
            Flow("schedule_next", "updates_agreed"),
            Flow("updates_agreed", "wait_for_update", name="Yes", default=True),
            Flow("updates_agreed", "updates_stopped", name="No", cond="not next_update_due"),
            Flow("wait_for_update", "schedule_next", channel=a - 0.62),
            Flow("next_update_due", "update_reporter"),
            Flow("update_reporter", "record_update"),
            Flow("record_update", "schedule_next", channel=b + 0.5),
        ],
    )
    return Node(
        "casework", "sub", "Casework", lane="Lane_case_officer", box=(k - 0.45, -0.75, k + 9.45,
                                                                        3.85),
        doc="The action plan is carried out while the reporter is updated at the agreed "
            "cadence; finishing the work stops the updates (signal casework_done).",
        nodes=[
            Node("casework_started", "start", "Casework starts", (k, 0)),
            Node("casework_split", "and", "Work and updates in parallel", (k + 0.8, 0),
                 label="above"),
            user("work_case", "Carry out the action plan", (k + 2.3, 0), **OFFICER_TASK),
            Node("casework_done_thrown", "throw", "Casework done", (k + 4.0, 0),
                 signal="casework_done"),
            keep,
            Node("updates_stopped_by_signal", "boundary", "Casework done",
                 host="keep_updated", pos=0.93, signal="casework_done"),
            Node("casework_join", "and", "Work and updates finished", (k + 8.2, 0),
                 label="above"),
            Node("casework_finished", "end", "Casework finished", (k + 9.0, 0)),
        ],
        flows=[
            Flow("casework_started", "casework_split"),
            Flow("casework_split", "work_case"),
            Flow("casework_split", "keep_updated"),
            Flow("work_case", "casework_done_thrown"),
            Flow("casework_done_thrown", "casework_join"),
            Flow("updates_stopped_by_signal", "casework_join"),
            Flow("casework_join", "casework_finished"),
        ],
    )


def asb_case() -> Document:
    officer = Lane("Lane_case_officer", "officer", (-0.95, 4.3))
    leader = Lane("Lane_case_team_leader", "team_leader", (4.3, 5.9))
    o, t = officer.id, leader.id
    k = 13.4   # where casework starts
    sg = 1.0   # the row of the safeguarding branch
    nodes = [
        Node("report_received", "start", "Report received", (0, 0), lane=o),
        Node("reopened_gateway", "xor", "Re-opened?", (1, 0), lane=o),
        Node("call_intake", "call", "Intake checks", (2, 0), lane=o, called="asb_intake"),
        Node("to_triage", "xor", "To triage", (3, 0), lane=o),
        Node("call_triage", "call", "Triage", (4, 0), lane=o, called="asb_triage"),
        Node("officer_kept_gateway", "xor", "Re-opened (officer kept)?", (5, 0), lane=o),
        Node("call_assignment", "call", "Assignment", (6, 0), lane=o, called="asb_assignment"),
        Node("to_risk_assessment", "xor", "To risk assessment", (7, 0), lane=o),
        Node("call_risk_assessment", "call", "Risk assessment", (8, 0), lane=o,
             called="asb_risk_assessment"),
        Node("safeguarding_split", "and", "Contact and safeguarding in parallel", (9, 0),
             lane=o, label="above"),
        Node("call_first_contact", "call", "First contact", (10, 0), lane=o,
             called="asb_first_contact"),
        Node("call_action_plan", "call", "Action plan", (11.2, 0), lane=o,
             called="asb_action_plan"),
        Node("safeguarding_needed", "xor", "Child or adult at risk?", (9, sg), lane=o,
             label="above"),
        Node("call_safeguarding", "call", "Safeguarding referral", (10.6, sg), lane=o,
             called="asb_safeguarding",
             doc="Whenever triage or the risk assessment set the safeguarding flag, the "
                 "referral must be made before casework can start (promise 4)."),
        Node("safeguarding_merge", "xor", "Referral made or not needed", (12.3, sg), lane=o,
             label="below"),
        Node("safeguarding_join", "and", "Ready for casework", (12.3, 0), lane=o,
             label="above"),
        casework(k),
        Node("call_closure", "call", "Closure", (k + 10.3, 0), lane=o, called="asb_closure"),
        Node("case_closed", "end", "Case closed", (k + 11.4, 0), lane=o),
        event_subprocess(
            "new_incident_received", "New incident", "new_incident", "New incident reported",
            [service("load_officer_for_incident", "Look up the case officer",
                     "assignment.current_officer", (0, 0)),
             service("record_incident", "Record the incident", "incidents.record_incident",
                     (0, 0)),
             service("inform_case_review_again", "Tell a repeat reporter about the Case Review",
                     "case_review.inform_on_second_report", (0, 0)),
             user("review_incident", "Review the new incident", (0, 0),
                  due="due_after_working_days(now(), 1)", **OFFICER_TASK)],
            "Incident reviewed", o, 0, 2.2),
        event_subprocess(
            "circumstances_changed", "Change of circumstances", "change_of_circumstances",
            "Circumstances changed",
            [service("load_officer_for_review", "Look up the case officer",
                     "assignment.current_officer", (0, 0)),
             user("review_risk", "Review the risk assessment", (0, 0), **OFFICER_TASK),
             service("record_reviewed_assessment", "Record the reviewed assessment",
                     "triage.record_assessment", (0, 0)),
             service("move_deadlines", "Move deadlines if the priority rose",
                     "triage.move_deadlines", (0, 0))],
            "Risk reviewed", o, 5.95, 2.2),
        event_subprocess(
            "major_development_reported", "Major development", "major_development",
            "Major development",
            [service("notify_major_development", "Tell the reporter now",
                     "notify.major_development", (0, 0))],
            "Reporter told", o, 0, 3.6),
        event_subprocess(
            "diary_entry_received", "Diary entry", "diary_entry", "Diary entry sent",
            [service("load_officer_for_diary", "Look up the case officer",
                     "assignment.current_officer", (0, 0)),
             service("record_diary_entry", "Record the diary entry", "diary.record_entry",
                     (0, 0)),
             user("review_diary_entry", "Review the diary entry", (0, 0),
                  due="due_after_working_days(now(), 1)", **OFFICER_TASK),
             service("record_diary_review", "Record the review", "diary.record_review",
                     (0, 0))],
            "Diary entry reviewed", o, 3.5, 3.6),
        event_subprocess(
            "case_review_applied", "Case Review application", "case_review_application",
            "Case Review applied for",
            [service("start_case_review", "Start the Case Review", "case_review.apply_from_case",
                     (0, 0))],
            "Case Review started", t, 0, 5.1),
        event_subprocess(
            "complaint_made", "Complaint", "complaint", "Complaint made",
            [service("start_complaint", "Start the complaint", "complaints.apply_from_case",
                     (0, 0))],
            "Complaint started", t, 3.5, 5.1),
    ]
    flows = [
        Flow("report_received", "reopened_gateway"),
        Flow("reopened_gateway", "call_intake", name="No", default=True),
        Flow("reopened_gateway", "to_triage", name="Yes", cond="reopened", channel=-0.62),
        Flow("call_intake", "to_triage"),
        Flow("to_triage", "call_triage"),
        Flow("call_triage", "officer_kept_gateway"),
        Flow("officer_kept_gateway", "call_assignment", name="No", default=True),
        Flow("officer_kept_gateway", "to_risk_assessment", name="Yes", cond="reopened",
             channel=-0.62),
        Flow("call_assignment", "to_risk_assessment"),
        *chain("to_risk_assessment", "call_risk_assessment", "safeguarding_split",
               "call_first_contact", "call_action_plan", "safeguarding_join", "casework",
               "call_closure", "case_closed"),
        Flow("safeguarding_split", "safeguarding_needed"),
        Flow("safeguarding_needed", "call_safeguarding", name="Yes", cond="safeguarding"),
        Flow("safeguarding_needed", "safeguarding_merge", name="No", default=True,
             channel=sg + 0.55),
        Flow("call_safeguarding", "safeguarding_merge"),
        Flow("safeguarding_merge", "safeguarding_join"),
    ]
    return Document(
        "asb_case.bpmn",
        [Process("asb_case", "ASB case", (officer.rows[0], leader.rows[1]), nodes, flows,
                 [officer, leader],
                 doc="The lifecycle of an anti-social behaviour case, from the report to "
                     "closure (docs/lifecycle.md).")],
        messages=["new_incident", "change_of_circumstances", "case_review_application",
                  "complaint", "major_development", "update_sent", "diary_entry"],
        signals=["casework_done"],
    )


DOCUMENTS = (asb_case, intake, triage, assignment, first_contact, action_plan, closure)


def stage_modules() -> list[ModuleType]:
    """The stage descriptions in scripts/stages/*.py (part 2 of the lifecycle and later).

    Each module imports what it needs from this one and defines ``DOCUMENTS`` (functions
    returning a ``Document``) and, optionally, ``EXTRA_FILES`` (file name -> function returning
    the bytes, for decision tables).
    """
    folder = Path(__file__).resolve().parent / "stages"
    if str(folder.parent) not in sys.path:
        sys.path.insert(0, str(folder.parent))
    sys.modules.setdefault("bpmn_layout", sys.modules[__name__])
    return [importlib.import_module(f"stages.{path.stem}")
            for path in sorted(folder.glob("*.py")) if not path.stem.startswith("_")]

# -- the decision table --------------------------------------------------------------------

PRIORITY_INPUTS = (
    ("hate", "Hate incident"),
    ("child_at_risk", "Child at risk"),
    ("vulnerable_adult", "Vulnerable adult at risk"),
    ("threat_of_violence", "Threat of violence"),
    ("high_risk", "High risk"),
    ("repeat_victim", "Repeat victim"),
)
DEFAULT_CADENCE_DAYS = "10"   # DOMAIN.md: P1 every 10 working days; P2 agreed (fortnightly)


def decision_table() -> etree._Element:
    root = etree.Element(q(DMN, "definitions"), nsmap={None: DMN, "dmndi": DMNDI,
                                                       "dc": DMN_DC})
    root.set("id", "Definitions_triage_priority")
    root.set("name", "Triage priority")
    root.set("namespace", "http://asb.example/dmn/lifecycle")
    root.set("exporter", "scripts/bpmn_layout.py")
    decision = sub(root, DMN, "decision", id="triage_priority", name="Triage priority")
    sub(decision, DMN, "description",
        "API.md: priority 1 when there is any hate strand, or a child or vulnerable adult at "
        "risk, a threat of violence, high risk, or a repeat victim; otherwise priority 2. "
        "Suggested update cadence: 10 working days (DOMAIN.md).")
    table = sub(decision, DMN, "decisionTable", id="DecisionTable_triage_priority",
                hitPolicy="FIRST")
    for var, label in PRIORITY_INPUTS:
        inp = sub(table, DMN, "input", id=f"Input_{var}", label=label)
        expr = sub(inp, DMN, "inputExpression", id=f"InputExpression_{var}", typeRef="boolean")
        sub(expr, DMN, "text", var)
    sub(table, DMN, "output", id="Output_priority", label="Priority", name="priority",
        typeRef="integer")
    sub(table, DMN, "output", id="Output_suggested_cadence_days",
        label="Suggested update cadence (working days)", name="suggested_cadence_days",
        typeRef="integer")
    rules = [(var, label, "1") for var, label in PRIORITY_INPUTS]
    rules.append((None, "Anything else", "2"))
    for var, label, priority in rules:
        rule = sub(table, DMN, "rule", id=f"Rule_{var or 'otherwise'}")
        sub(rule, DMN, "description", label)
        for name, _ in PRIORITY_INPUTS:
            entry = sub(rule, DMN, "inputEntry", id=f"Rule_{var or 'otherwise'}_{name}")
            sub(entry, DMN, "text", "True" if name == var else "-")
        for out in ("priority", "cadence"):
            entry = sub(rule, DMN, "outputEntry", id=f"Rule_{var or 'otherwise'}_{out}")
            sub(entry, DMN, "text", priority if out == "priority" else DEFAULT_CADENCE_DAYS)
    dmndi = sub(root, DMNDI, "DMNDI")
    diagram = sub(dmndi, DMNDI, "DMNDiagram", id="DMNDiagram_triage_priority")
    shape = sub(diagram, DMNDI, "DMNShape", id="DMNShape_triage_priority",
                dmnElementRef="triage_priority")
    sub(shape, DMN_DC, "Bounds", height="80", width="180", x="160", y="100")
    return root


# -- main ----------------------------------------------------------------------------------


def render_all() -> dict[str, bytes]:
    builders = list(DOCUMENTS)
    extra: dict[str, Callable[[], bytes]] = {}
    for module in stage_modules():
        builders.extend(module.DOCUMENTS)
        extra.update(getattr(module, "EXTRA_FILES", {}))
    files = {doc.filename: serialise(Writer(doc).write())
             for doc in (build() for build in builders)}
    files["triage_priority.dmn"] = serialise(decision_table())
    files.update({name: build() for name, build in extra.items()})
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="report files that differ from the description; write nothing")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="target folder (bpmn/)")
    args = parser.parse_args(argv)
    drift = []
    for name, content in render_all().items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_bytes() != content:
                drift.append(name)
            continue
        path.write_bytes(content)
    if drift:
        print("differs from scripts/bpmn_layout.py: " + ", ".join(drift), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
