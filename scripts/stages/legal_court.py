"""Court stages: civil injunction, closure notice then order, possession on the absolute ground.

docs/stages/legal_court.md describes them for people; this module lays them out for
scripts/bpmn_layout.py (bpmn/legal_injunction.bpmn, legal_closure.bpmn, legal_possession.bpmn).
Each is its own process, started from the case file, with the case reference as business key.
"""

from __future__ import annotations

from bpmn_layout import OFFICER_TASK, Document, Flow, Lane, Node, Process, chain, service, user

STARTER = {"assignee": "started_by"}
NEXT_WORKING_DAY = "due_after_working_days(now(), 1)"


def _shift(doc: Document, rows: float) -> Document:
    """Move a whole description down by ``rows``, so that no shape lies above the page's top."""
    def move(nodes: list[Node], flows: list[Flow]) -> None:
        for node in nodes:
            node.at = (node.at[0], node.at[1] + rows)
            if node.box is not None:
                c0, r0, c1, r1 = node.box
                node.box = (c0, r0 + rows, c1, r1 + rows)
            move(node.nodes, node.flows)
        for flow in flows:
            if flow.channel is not None:
                flow.channel += rows

    for proc in doc.processes:
        move(proc.nodes, proc.flows)
        proc.rows = (proc.rows[0] + rows, proc.rows[1] + rows)
        for lane in proc.lanes:
            lane.rows = (lane.rows[0] + rows, lane.rows[1] + rows)
    return doc


def _watch(id_: str, name: str, message: str, caught: str, col: float, lane: str,
           after: list[Node] | None = None) -> Node:
    """An embedded subprocess that waits for ``message`` (its payload kept under that name).

    A receive task would lose the payload (SpiffWorkflow keeps it only for events with a
    message variable); a boundary timer on this subprocess ends the wait instead.
    """
    steps = [Node(f"{id_}_start", "start", "Waiting starts", (col, 0)),
             Node(f"{id_}_caught", "catch", caught, (col + 1, 0), message=message,
                  message_var=message),
             *(after or [])]
    for i, step in enumerate(steps[2:], start=2):
        step.at = (col + i, 0)
    end = Node(f"{id_}_end", "end", "Received", (col + len(steps), 0))
    nodes = [*steps, end]
    return Node(id_, "sub", name, lane=lane, nodes=nodes, flows=chain(*(n.id for n in nodes)),
                box=(col - 0.45, -0.5, col + len(steps) + 0.45, 0.55))


def injunction() -> Document:
    lane = Lane("Lane_injunction_officer", "officer", (-1.75, 2.45))
    o = lane.id
    nodes = [
        Node("injunction_considered", "start", "Injunction considered", (0, 0)),
        user("prepare_injunction", "Prepare the injunction case", (1, 0), **STARTER),
        service("record_injunction_case", "Record the injunction case",
                "injunction.record_case", (2, 0)),
        Node("respondent_under_18", "xor", "Respondent under 18?", (3, 0)),
        user("consult_yot", "Consult the youth offending team", (4, -1.15),
             due="due_after_working_days(now(), 10)", **OFFICER_TASK),
        service("record_yot_consultation", "Record the consultation",
                "injunction.record_yot_consultation", (5, -1.15)),
        Node("yot_done", "xor", "Ready for evidence", (6, 0)),
        user("prepare_injunction_bundle", "Prepare the evidence bundle", (7, 0), **OFFICER_TASK),
        service("record_bundle", "Record the evidence bundle", "injunction.record_bundle",
                (8, 0)),
        user("take_witness_statements", "Take witness statements", (9, 0), **OFFICER_TASK),
        service("record_statements", "Record the witnesses", "injunction.record_statements",
                (10, 0)),
        Node("next_witness", "xor", "Next witness", (11, 0), label="above"),
        Node("witness_left", "xor", "A witness still to prepare?", (12, 0), label="above"),
        user("prepare_injunction_witness", "Prepare and support a witness", (12, 1.45),
             due="due_after_working_days(now(), 5)", **OFFICER_TASK),
        service("record_witness_support", "Record the preparation",
                "injunction.record_witness_support", (11, 1.45)),
        user("apply_for_injunction", "Apply to court", (13, 0), **OFFICER_TASK),
        service("record_application", "Record the application", "injunction.record_application",
                (14, 0)),
        Node("hearing_listed", "xor", "Hearing listed", (15, 0), label="above"),
        Node("hearing_day", "catch", "Hearing day", (16, 0), timer="hearing_at"),
        user("record_injunction_hearing", "Record the hearing outcome", (17, 0),
             due="due_after_working_days(hearing_at, 1)", **OFFICER_TASK),
        service("record_hearing", "Record the outcome", "injunction.record_hearing", (18, 0)),
        Node("hearing_outcome", "xor", "Outcome?", (19, 0), label="below-right"),
        Node("injunction_refused", "end", "Not granted", (19, -1.25), label="above"),
        Node("order_in_force", "xor", "Order in force", (20, 0)),
        _watch("watch_for_breach", "Watch for breaches until the order ends",
               "injunction_breach", "Breach reported", 21, o),
        Node("order_ends", "boundary", "Order ends", host="watch_for_breach", pos=0.5,
             timer="order_expires_at"),
        service("end_injunction", "Close the injunction", "injunction.end_order", (23.5, 1.45)),
        Node("injunction_ended", "end", "Order ended", (24.6, 1.45)),
        user("record_injunction_breach", "Record the breach and action taken", (24.2, 0),
             due=NEXT_WORKING_DAY, **OFFICER_TASK),
        service("record_breach_action", "Record the breach", "injunction.record_breach",
                (25.3, 0)),
    ]
    for node in nodes:
        node.lane = o if node.kind != "boundary" else None
    flows = [
        *chain("injunction_considered", "prepare_injunction", "record_injunction_case",
               "respondent_under_18"),
        Flow("respondent_under_18", "consult_yot", name="Yes", cond="respondent_under_18"),
        Flow("respondent_under_18", "yot_done", name="No", default=True),
        *chain("consult_yot", "record_yot_consultation", "yot_done", "prepare_injunction_bundle",
               "record_bundle", "take_witness_statements", "record_statements", "next_witness",
               "witness_left"),
        Flow("witness_left", "prepare_injunction_witness", name="Yes",
             cond="witnesses_to_prepare > 0"),
        Flow("witness_left", "apply_for_injunction", name="No", default=True),
        *chain("prepare_injunction_witness", "record_witness_support", "next_witness"),
        *chain("apply_for_injunction", "record_application", "hearing_listed", "hearing_day",
               "record_injunction_hearing", "record_hearing", "hearing_outcome"),
        Flow("hearing_outcome", "hearing_listed", name="Adjourned",
             cond='hearing_outcome == "adjourned"', channel=1.45),
        Flow("hearing_outcome", "order_in_force", name="Granted",
             cond='hearing_outcome == "granted"'),
        Flow("hearing_outcome", "injunction_refused", name="Refused or withdrawn",
             default=True),
        *chain("order_in_force", "watch_for_breach", "record_injunction_breach",
               "record_breach_action"),
        Flow("record_breach_action", "order_in_force", channel=-0.95),
        *chain("order_ends", "end_injunction", "injunction_ended"),
    ]
    return _shift(Document("legal_injunction.bpmn", [Process(
        "asb_legal_injunction", "Civil injunction", lane.rows, nodes, flows, [lane],
        doc="A civil injunction (Anti-social Behaviour, Crime and Policing Act 2014, Part 1): "
            "respondent aged 10 or over; the youth offending team consulted when under 18 "
            "(s14); evidence bundle, witness statements, witnesses prepared and supported; "
            "the hearing and its outcome; breaches until the order ends. The reporter is told "
            "at each step and prepared as a witness.")],
        messages=["injunction_breach"]), 1.0)


def closure() -> Document:
    lane = Lane("Lane_closure_order_officer", "officer", (-1.75, 2.1))
    nodes = [
        Node("closure_considered", "start", "Premises causing nuisance or disorder", (0, 0)),
        user("prepare_closure_notice", "Prepare the closure notice", (1, 0), **STARTER),
        service("record_closure_notice", "Record the closure notice",
                "closure_order.record_notice", (2, 0)),
        user("serve_closure_notice", "Serve the closure notice", (3, 0), **OFFICER_TASK),
        service("record_closure_service", "Record the service and hearing deadline",
                "closure_order.record_service", (4, 0)),
        user("apply_closure_order", "Apply for the closure order", (5, 0),
             due="closure_hearing_deadline(notice_served_at)", **OFFICER_TASK),
        service("record_closure_application", "Record the application",
                "closure_order.record_application", (6, 0)),
        Node("closure_hearing_listed", "xor", "Hearing listed", (7, 0), label="above"),
        user("record_closure_hearing", "Record the court hearing", (8, 0),
             due="due_after_working_days(hearing_at, 1)", **OFFICER_TASK),
        service("record_closure_hearing_result", "Record the court's decision",
                "closure_order.record_hearing", (9, 0)),
        Node("closure_outcome", "xor", "Outcome?", (10, 0), label="below-right"),
        Node("no_closure_order", "end", "No closure order", (10, -1.25), label="above"),
        Node("closure_in_force", "xor", "Order in force", (11, 0)),
        Node("can_extend", "xor", "Can it be extended?", (12, 0), label="above"),
        Node("consider_extension", "catch", "Time to consider an extension", (13, 0),
             timer="extension_review_at"),
        user("extend_closure_order", "Extend the closure order?", (14, 0),
             due="order_expires_at", **OFFICER_TASK),
        Node("closure_order_lapses", "boundary", "Order ends", host="extend_closure_order",
             pos=0.5, timer="order_expires_at"),
        service("record_closure_extension", "Record the decision on extension",
                "closure_order.record_extension", (15, 0)),
        Node("extended", "xor", "Extended?", (16, 0), label="below-right"),
        Node("wait_for_end", "xor", "Wait for the end", (17, 0), label="above"),
        Node("closure_order_expiry", "catch", "Order ends", (18, 0), timer="order_expires_at"),
        Node("closure_ended", "xor", "Order ended", (19, 0), label="above"),
        service("record_closure_end", "Record the end of the order", "closure_order.record_end",
                (20, 0)),
        Node("closure_done", "end", "Closure over", (21, 0)),
    ]
    for node in nodes:
        node.lane = lane.id if node.kind != "boundary" else None
    flows = [
        *chain("closure_considered", "prepare_closure_notice", "record_closure_notice",
               "serve_closure_notice", "record_closure_service", "apply_closure_order",
               "record_closure_application", "closure_hearing_listed", "record_closure_hearing",
               "record_closure_hearing_result", "closure_outcome"),
        Flow("closure_outcome", "closure_hearing_listed", name="Adjourned",
             cond='hearing_outcome == "adjourned"', channel=1.3),
        Flow("closure_outcome", "closure_in_force", name="Order made",
             cond='hearing_outcome == "order_made"'),
        Flow("closure_outcome", "no_closure_order", name="Refused or withdrawn", default=True),
        *chain("closure_in_force", "can_extend"),
        Flow("can_extend", "consider_extension", name="Yes", cond="order_months_total < 6"),
        Flow("can_extend", "wait_for_end", name="No: 6 months reached", default=True,
             channel=1.3),
        *chain("consider_extension", "extend_closure_order", "record_closure_extension",
               "extended"),
        Flow("extended", "closure_in_force", name="Yes", cond="order_extended",
             channel=-0.95),
        Flow("extended", "wait_for_end", name="No", default=True),
        Flow("closure_order_lapses", "closure_ended"),
        *chain("wait_for_end", "closure_order_expiry", "closure_ended", "record_closure_end",
               "closure_done"),
    ]
    return _shift(Document("legal_closure.bpmn", [Process(
        "asb_legal_closure", "Closure notice and order", lane.rows, nodes, flows, [lane],
        doc="Closure of premises (Anti-social Behaviour, Crime and Policing Act 2014, Part 4 "
            "Chapter 3): a closure notice of 24 hours, or 48 with the chief executive's or "
            "their designate's sign-off (s77), after consultation (s76(7)); the magistrates' "
            "court hears the application for a closure order within 48 hours of service, "
            "Christmas Day disregarded (s80(3)-(4)); an order lasts up to 3 months and may be "
            "extended to at most 6 in all (s80(6), s82).")]), 1.0)


def possession() -> Document:
    officer = Lane("Lane_possession_officer", "officer", (-0.8, 2.2))
    leader = Lane("Lane_possession_team_leader", "team_leader", (2.2, 3.6))
    o, t = officer.id, leader.id
    r = 2.9
    nodes = [
        Node("possession_considered", "start", "Trigger for possession", (0, 0), lane=o),
        user("record_possession_trigger", "Record the trigger", (1, 0), lane=o, **STARTER),
        service("record_trigger", "Check the time limit for the notice",
                "possession.record_trigger", (2, 0), lane=o),
        user("serve_possession_notice", "Serve the notice seeking possession", (3, 0), lane=o,
             due="notice_deadline", **OFFICER_TASK),
        Node("notice_time_up", "boundary", "No notice recorded in time",
             host="serve_possession_notice", pos=0.5,
             timer="due_after_working_days(notice_deadline, 5)"),
        service("record_notice_out_of_time", "Record that the time ran out",
                "possession.notice_out_of_time", (3, 1.45), lane=o),
        Node("notice_out_of_time", "end", "Notice not served in time", (4.1, 1.45), lane=o),
        service("record_possession_notice", "Record the notice", "possession.record_notice",
                (4, 0), lane=o),
        _watch("wait_for_review", "Wait 7 days for a review request",
               "possession_review_requested", "Review requested", 5, o,
               after=[service("record_review_request", "Record the request",
                              "possession.record_review_request", (0, 0))]),
        Node("no_review_requested", "boundary", "7 days passed", host="wait_for_review",
             pos=0.3, timer="review_deadline"),
        user("conduct_possession_review", "Conduct the review", (9.3, r), lane=t,
             assignee="team_leader", due="review_due"),
        service("record_review", "Record the review decision", "possession.record_review",
                (10.4, r), lane=t),
        Node("review_outcome", "xor", "Decision upheld?", (11.5, r), lane=t,
             label="below-right"),
        Node("review_overturned", "end", "Decision overturned", (12.6, r), lane=t),
        Node("ready_to_apply", "xor", "Ready to apply", (12.6, 0), lane=o, label="above"),
        user("apply_for_possession", "Apply to court for possession", (13.7, 0), lane=o,
             **OFFICER_TASK),
        service("record_possession_application", "Record the application",
                "possession.record_application", (14.8, 0), lane=o),
        user("record_possession_hearing", "Record the possession hearing", (15.9, 0), lane=o,
             due="due_after_working_days(hearing_at, 1)", **OFFICER_TASK),
        service("record_possession_outcome", "Record the court's decision",
                "possession.record_hearing", (17, 0), lane=o),
        Node("possession_decided", "end", "Possession decided", (18.1, 0), lane=o),
    ]
    flows = [
        *chain("possession_considered", "record_possession_trigger", "record_trigger",
               "serve_possession_notice", "record_possession_notice", "wait_for_review",
               "conduct_possession_review", "record_review", "review_outcome"),
        *chain("notice_time_up", "record_notice_out_of_time", "notice_out_of_time"),
        Flow("no_review_requested", "ready_to_apply"),
        Flow("review_outcome", "ready_to_apply", name="Yes", cond='review_decision == "upheld"'),
        Flow("review_outcome", "review_overturned", name="No", default=True),
        *chain("ready_to_apply", "apply_for_possession", "record_possession_application",
               "record_possession_hearing", "record_possession_outcome", "possession_decided"),
    ]
    return Document("legal_possession.bpmn", [Process(
        "asb_legal_possession", "Possession on the absolute ground",
        (officer.rows[0], leader.rows[1]), nodes, flows, [officer, leader],
        doc="Possession on the absolute ground for anti-social behaviour (Housing Act 1985 "
            "s84A): the notice within 12 months of the trigger (3 months for a closure order), "
            "s83ZA; the tenant may ask for a review within 7 days of service, s85ZA, carried "
            "out by someone senior who took no part in the decision; then the court.")],
        messages=["possession_review_requested"])


DOCUMENTS = (injunction, closure, possession)
