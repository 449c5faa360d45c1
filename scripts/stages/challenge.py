"""Promise 8, the right to challenge: ASB Case Review and complaints (docs/stages/challenge.md).

Neither process runs under a case reference: each application or complaint has its own
reference as business key (``CR-2027-0001``, ``CMP-2027-0001``) and an optional case link.
The threshold decision table ``case_review_threshold`` is written here too.
"""

from __future__ import annotations

from bpmn_layout import (
    DMN,
    DMN_DC,
    DMNDI,
    Document,
    Flow,
    Lane,
    Node,
    Process,
    chain,
    serialise,
    service,
    sub,
    user,
)
from lxml import etree

LEADER = {"assignee": "team_leader"}


def case_review() -> Document:
    lane = Lane("Lane_case_review_team_leader", "team_leader", (-2.0, 3.55))
    t = lane.id
    nodes = [
        Node("application_received", "start", "Application received", (0, 0), lane=t),
        service("count_qualifying", "Count the qualifying complaints",
                "case_review.count_qualifying", (1, 0), lane=t),
        Node("check_threshold", "rule", "Check the Case Review threshold", (2, 0), lane=t,
             decision="case_review_threshold",
             doc="Decision table case_review_threshold: met when the qualifying complaints "
                 "reach the council's threshold (3 by law, a council may set fewer)."),
        service("acknowledge_application", "Acknowledge the application",
                "case_review.acknowledge", (3, 0), lane=t),
        Node("threshold_met_gateway", "xor", "Threshold met?", (4, 0), lane=t, label="above"),
        user("decide_case_review", "Decide whether to hold a review", (4, 1.5), lane=t,
             due="decision_due", **LEADER),
        Node("hold_review_gateway", "xor", "Hold a review?", (5, 1.5), lane=t, label="above"),
        service("review_agreed", "Tell the applicant a review will be held",
                "case_review.review_agreed", (6, 1.5), lane=t),
        service("threshold_not_met", "Tell the applicant the threshold is not met",
                "case_review.threshold_not_met", (5, 2.85), lane=t),
        Node("no_review", "end", "Threshold not met", (6, 2.85), lane=t),
        Node("review_to_be_held", "xor", "Review to be held", (6, 0), lane=t, label="above"),
        user("hold_panel", "Hold the review panel", (7, 0), lane=t, due="outcome_due",
             **LEADER),
        service("record_panel", "Record the panel meeting", "case_review.record_panel",
                (8, 0), lane=t),
        user("record_recommendations", "Record the panel's recommendations", (9, 0), lane=t,
             due="outcome_due", **LEADER),
        service("send_outcome", "Send the outcome letter", "case_review.send_outcome",
                (10, 0), lane=t),
        service("check_recommendations", "Check the recommendations",
                "case_review.check_recommendations", (11, 0), lane=t),
        Node("recommendations_gateway", "xor", "Recommendations done?", (12, 0), lane=t,
             label="below-right"),
        Node("review_complete", "end", "Review complete", (13, 0), lane=t),
        user("chase_recommendations", "Chase the overdue recommendations", (12, 1.5), lane=t,
             due="chase_due", **LEADER),
        service("record_chase", "Record the chase", "case_review.record_chase", (11, 1.5),
                lane=t),
        Node("wait_for_next_check", "catch", "Next check due", (11, -1.3), lane=t,
             timer="next_check_at", label="above"),
    ]
    flows = [
        *chain("application_received", "count_qualifying", "check_threshold",
               "acknowledge_application", "threshold_met_gateway"),
        Flow("threshold_met_gateway", "review_to_be_held", name="Yes", cond="threshold_met"),
        Flow("threshold_met_gateway", "decide_case_review", name="No", default=True),
        Flow("decide_case_review", "hold_review_gateway"),
        Flow("hold_review_gateway", "review_agreed", name="Yes", cond="hold_review"),
        Flow("hold_review_gateway", "threshold_not_met", name="No", default=True),
        Flow("threshold_not_met", "no_review"),
        Flow("review_agreed", "review_to_be_held"),
        *chain("review_to_be_held", "hold_panel", "record_panel", "record_recommendations",
               "send_outcome", "check_recommendations", "recommendations_gateway"),
        Flow("recommendations_gateway", "review_complete", name="All done",
             cond="not recommendations_open"),
        Flow("recommendations_gateway", "chase_recommendations", name="Overdue",
             cond="chase_now"),
        Flow("recommendations_gateway", "wait_for_next_check", name="Not due yet",
             default=True),
        Flow("chase_recommendations", "record_chase"),
        Flow("record_chase", "check_recommendations"),
        Flow("wait_for_next_check", "check_recommendations"),
    ]
    return Document("case_review.bpmn", [Process(
        "asb_case_review", "ASB Case Review", lane.rows, nodes, flows, [lane],
        doc="An application for an ASB Case Review (Anti-social Behaviour, Crime and Policing "
            "Act 2014 s104): the threshold, the decision, the review panel, the outcome "
            "letter and the recommendations followed until done (docs/stages/challenge.md).")])


def _stage(n: str, col: float, row: float, lane: str, props: dict[str, str]) -> list[Node]:
    """One complaint stage: open it, acknowledge, answer (with a once-only extension)."""
    respond = "respond_to_complaint" if n == "one" else "respond_stage_two"
    acknowledge = "acknowledge_complaint" if n == "one" else "acknowledge_stage_two"
    title = "stage 1" if n == "one" else "stage 2"
    return [
        service(f"open_stage_{n}", f"Open {title}", "complaints.open_stage", (col, row), lane),
        user(acknowledge, "Acknowledge the complaint" if n == "one" else
             "Acknowledge the stage 2 complaint", (col + 1, row), lane,
             due="acknowledge_due", **props),
        service(f"send_acknowledgement_{n}", "Send the acknowledgement",
                "complaints.acknowledge", (col + 2, row), lane),
        user(respond, f"Respond to the complaint ({title})", (col + 3, row), lane,
             due="response_due", **props),
        Node(f"extension_{n}", "boundary", "Extension asked for", host=respond, pos=0.5,
             message="complaint_extension", message_var="complaint_extension",
             interrupting=False),
        service(f"record_extension_{n}", "Extend and tell the complainant why",
                "complaints.extend", (col + 3, row + 1.35), lane),
        Node(f"extension_{n}_recorded", "end", "Answer date moved", (col + 2, row + 1.35),
             lane),
    ]


def complaint() -> Document:
    leader = Lane("Lane_complaint_team_leader", "team_leader", (-0.85, 2.2))
    manager = Lane("Lane_complaint_manager", "manager", (2.2, 5.5))
    s2 = 3.15
    nodes = [
        Node("complaint_received", "start", "Complaint received", (0, 0), lane=leader.id),
        *_stage("one", 1, 0, leader.id, LEADER),
        service("send_stage_one_response", "Send the stage 1 answer", "complaints.respond",
                (5, 0), lane=leader.id),
        Node("wait_for_escalation", "receive", "Wait for a request to go to stage 2",
             (6, 0), lane=leader.id, message="complaint_escalated",
             doc="The complainant asked for stage 2 (message complaint_escalated) within "
                 "the window given in the stage 1 answer."),
        Node("escalation_window_closed", "boundary", "Time to ask for stage 2 passed",
             host="wait_for_escalation", pos=0.5, timer="escalation_deadline"),
        service("close_after_stage_one", "Close the complaint at stage 1", "complaints.close",
                (6, 1.35), lane=leader.id),
        Node("closed_at_stage_one", "end", "Closed after stage 1", (5, 1.35), lane=leader.id),
        *_stage("two", 7, s2, manager.id, {}),
        service("send_final_response", "Send the final answer with the Ombudsman route",
                "complaints.final_response", (11, s2), lane=manager.id),
        Node("closed_at_stage_two", "end", "Closed after stage 2", (12, s2), lane=manager.id),
    ]
    flows = [
        *chain("complaint_received", "open_stage_one", "acknowledge_complaint",
               "send_acknowledgement_one", "respond_to_complaint", "send_stage_one_response",
               "wait_for_escalation", "open_stage_two", "acknowledge_stage_two",
               "send_acknowledgement_two", "respond_stage_two", "send_final_response",
               "closed_at_stage_two"),
        *chain("extension_one", "record_extension_one", "extension_one_recorded"),
        *chain("extension_two", "record_extension_two", "extension_two_recorded"),
        *chain("escalation_window_closed", "close_after_stage_one", "closed_at_stage_one"),
    ]
    return Document("complaint.bpmn", [Process(
        "asb_complaint", "Complaint", (leader.rows[0], manager.rows[1]), nodes, flows,
        [leader, manager],
        doc="A formal complaint: stage 1 and, on request, stage 2, with the timescales of the "
            "Ombudsmen's complaint handling codes, one extension per stage with its reason, "
            "and the Ombudsman route in the final answer (docs/stages/challenge.md).")],
        messages=["complaint_extension", "complaint_escalated"])


def threshold_table() -> bytes:
    """Decision ``case_review_threshold``: the count against the threshold (hit policy FIRST)."""
    root = etree.Element(f"{{{DMN}}}definitions", nsmap={None: DMN, "dmndi": DMNDI,
                                                         "dc": DMN_DC})
    root.set("id", "Definitions_case_review_threshold")
    root.set("name", "Case Review threshold")
    root.set("namespace", "http://asb.example/dmn/challenge")
    root.set("exporter", "scripts/bpmn_layout.py")
    decision = sub(root, DMN, "decision", id="case_review_threshold",
                   name="Case Review threshold")
    sub(decision, DMN, "description",
        "DOMAIN.md: the threshold is met automatically by the council's number (3 by law, "
        "never more) of qualifying complaints about the same problem in the 6 months before "
        "the application; otherwise the partners decide on persistence, harm and the "
        "adequacy of the response.")
    table = sub(decision, DMN, "decisionTable", id="DecisionTable_case_review_threshold",
                hitPolicy="FIRST")
    for var, label in (("qualifying_complaints", "Qualifying complaints"),
                       ("threshold", "Threshold (council setting)")):
        inp = sub(table, DMN, "input", id=f"Input_{var}", label=label)
        expr = sub(inp, DMN, "inputExpression", id=f"InputExpression_{var}",
                   typeRef="integer")
        sub(expr, DMN, "text", var)
    sub(table, DMN, "output", id="Output_threshold_met", label="Threshold met",
        name="threshold_met", typeRef="boolean")
    sub(table, DMN, "output", id="Output_route", label="Who decides", name="route",
        typeRef="string")
    rules = (("met", "Enough qualifying complaints", ">= threshold", "True", '"automatic"'),
             ("otherwise", "Fewer: the partners decide", "-", "False",
              '"partner_decision"'))
    for rid, label, count, met, route in rules:
        rule = sub(table, DMN, "rule", id=f"Rule_{rid}")
        sub(rule, DMN, "description", label)
        for name, text in (("qualifying_complaints", count), ("threshold", "-")):
            entry = sub(rule, DMN, "inputEntry", id=f"Rule_{rid}_{name}")
            sub(entry, DMN, "text", text)
        for name, text in (("threshold_met", met), ("route", route)):
            entry = sub(rule, DMN, "outputEntry", id=f"Rule_{rid}_{name}")
            sub(entry, DMN, "text", text)
    dmndi = sub(root, DMNDI, "DMNDI")
    diagram = sub(dmndi, DMNDI, "DMNDiagram", id="DMNDiagram_case_review_threshold")
    shape = sub(diagram, DMNDI, "DMNShape", id="DMNShape_case_review_threshold",
                dmnElementRef="case_review_threshold")
    sub(shape, DMN_DC, "Bounds", height="80", width="180", x="160", y="100")
    return serialise(root)


DOCUMENTS = (case_review, complaint)
EXTRA_FILES = {"case_review_threshold.dmn": threshold_table}
