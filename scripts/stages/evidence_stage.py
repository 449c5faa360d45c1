"""Evidence asked of the reporter, their diary entries, and a moved first-contact deadline.

Promise 3 ("we will also explain any evidence we may ask you to provide, and why") and the
reporter's responsibilities (DOMAIN.md row R); docs/stages/evidence.md describes them.

- bpmn/evidence.bpmn: ``asb_evidence_request``, a stage the officer starts from the case
  file. Diary entries are asb_case's ``diary_entry`` event subprocess, calling this stage's
  handlers ``diary.record_entry`` and ``diary.record_review``.
- bpmn/first_contact_deadline.bpmn: ``asb_move_first_contact_deadline``, started by the
  handler ``triage.move_deadlines`` once a raised priority has been saved.
"""

from __future__ import annotations

from bpmn_layout import OFFICER_TASK, Document, Flow, Lane, Node, Process, chain, service, user

NEXT_WORKING_DAY = "due_after_working_days(now(), 1)"
TWO_WORKING_DAYS = "due_after_working_days(now(), 2)"


def evidence_request(lane: Lane) -> Process:
    o = lane.id
    nodes = [
        Node("evidence_needed", "start", "Evidence needed", (0, 0), lane=o),
        user("ask_for_evidence", "Ask the reporter for evidence", (1, 0), lane=o,
             assignee="started_by", due=NEXT_WORKING_DAY),
        service("send_request", "Record the request and write to the reporter",
                "evidence.send_request", (2, 0), lane=o),
        service("check_request", "Check where the request stands", "evidence.check_request",
                (3, 0), lane=o),
        Node("request_open", "xor", "Request still open?", (4, 0), lane=o, label="above"),
        Node("request_closed", "end", "Request closed", (4, 1.4), lane=o,
             doc="The officer needs nothing more, or the case closed (request withdrawn)."),
        Node("what_next", "xor", "Files to review?", (5, 0), lane=o, label="above"),
        user("review_evidence_received", "Review the evidence received", (5, -1.5), lane=o,
             due=TWO_WORKING_DAYS, **OFFICER_TASK),
        service("record_review", "Record the review and thank the reporter",
                "evidence.record_review", (6.3, -1.5), lane=o),
        Node("wait_for_evidence", "receive", "Wait for the evidence", (6.3, 0), lane=o,
             message="evidence_received",
             doc="Completes when a file of evidence is added to the case (message "
                 "evidence_received, sent by tasks.evidence_requests.evidence_added)."),
        Node("reminder_due", "boundary", "Reminder date", host="wait_for_evidence", pos=0.5,
             timer="evidence_next_check"),
        service("chase", "Send a reminder, or let the request lapse", "evidence.chase",
                (6.3, 1.5), lane=o),
        user("evidence_not_received", "Evidence not received: decide what next", (5, 3),
             lane=o, due=TWO_WORKING_DAYS, **OFFICER_TASK),
        service("record_decision", "Record the decision", "evidence.record_decision",
                (6.3, 3), lane=o),
        Node("ask_again", "xor", "Ask again?", (7.5, 3), lane=o, label="above"),
        Node("request_lapsed", "end", "Request lapsed", (8.6, 3), lane=o),
    ]
    flows = [
        *chain("evidence_needed", "ask_for_evidence", "send_request", "check_request",
               "request_open"),
        Flow("request_open", "what_next", name="Yes", default=True),
        Flow("request_open", "request_closed", name="No",
             cond='evidence_state in ("received", "withdrawn")'),
        Flow("what_next", "review_evidence_received", name="Files to review",
             cond='evidence_state == "to_review"'),
        Flow("what_next", "evidence_not_received", name="Lapsed",
             cond='evidence_state == "lapsed"'),
        Flow("what_next", "wait_for_evidence", name="Still waiting", default=True),
        Flow("review_evidence_received", "record_review"),
        Flow("record_review", "check_request", channel=-2.35),
        Flow("wait_for_evidence", "check_request", channel=-0.75),
        Flow("reminder_due", "chase"),
        Flow("chase", "check_request", channel=2.3),
        *chain("evidence_not_received", "record_decision", "ask_again"),
        Flow("ask_again", "ask_for_evidence", name="Yes", cond='next_step == "ask_again"',
             channel=4.0),
        Flow("ask_again", "request_lapsed", name="No", default=True),
    ]
    return Process(
        "asb_evidence_request", "Ask for evidence", lane.rows, nodes, flows, [lane],
        doc="Asks the reporter for diary sheets, recordings, photos or documents with the "
            "reason (promise 3); reminds them; has each file received reviewed; lapses after "
            "the reminders and lets the officer decide; withdrawn when the case closes "
            "(docs/stages/evidence.md).")


def evidence() -> Document:
    lane = Lane("Lane_evidence_officer", "officer", (-2.75, 4.45))
    return Document("evidence.bpmn", [evidence_request(lane)], messages=["evidence_received"])


def first_contact_deadline() -> Document:
    nodes = [
        Node("priority_raised", "start", "Priority raised", (0, 0)),
        service("apply_deadline", "Move the deadline on the open tasks and timer",
                "triage.apply_deadline", (1.1, 0)),
        Node("deadline_moved", "end", "Deadline moved", (2.2, 0)),
    ]
    return Document("first_contact_deadline.bpmn", [Process(
        "asb_move_first_contact_deadline", "Move the first-contact deadline", (-0.8, 0.8),
        nodes, chain(*(n.id for n in nodes)),
        doc="Started by triage.move_deadlines after a change of circumstances raised the "
            "priority: the case's open first-contact task and its timer take the priority 1 "
            "deadline (data first_contact_due, priority).")])


DOCUMENTS = (evidence, first_contact_deadline)
