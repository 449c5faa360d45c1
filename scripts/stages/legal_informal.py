"""Early legal action, one diagram per tool (docs/stages/legal_informal.md): a warning letter,
an acceptable behaviour agreement, and a Community Protection Warning then Notice.

Handlers: tasks/legal_informal.py (warning letter, agreement) and tasks/legal_cpn.py.
"""

from __future__ import annotations

from bpmn_layout import Document, Flow, Lane, Node, Process, chain, service, user

DUE_5 = "due_after_working_days(now(), 5)"
MINE = {"assignee": "started_by"}   # the officer who started the legal action owns its tasks


def legal_warning() -> Document:
    officer = Lane("Lane_legal_warning_officer", "officer", (-0.8, 2.2))
    leader = Lane("Lane_legal_warning_team_leader", "team_leader", (2.2, 4.9))
    o, t, r = officer.id, leader.id, 3.0
    nodes = [
        Node("warning_started", "start", "Warning letter chosen", (0, 0), lane=o),
        user("prepare_warning_letter", "Prepare the warning letter", (1.1, 0), lane=o,
             due=DUE_5, **MINE),
        service("record_warning_draft", "Check and record the draft",
                "legal_warning.record_draft", (2.3, 0), lane=o),
        user("approve_warning_letter", "Approve the warning letter", (3.5, r), lane=t,
             assignee="team_leader if team_leader != started_by else None",
             due="due_after_working_days(now(), 2)"),
        Node("approval_decision", "xor", "Decision?", (4.7, r), lane=t, label="below-right"),
        service("record_warning_return", "Record why it was returned",
                "legal_warning.record_return", (4.7, 1.5), lane=o),
        service("send_warning", "Send the letter and tell the reporter", "legal_warning.send",
                (5.9, r), lane=t),
        service("withdraw_warning", "Record that it is not sent", "legal_warning.withdraw",
                (5.9, 4.2), lane=t),
        Node("warning_not_sent", "end", "Letter not sent", (7.1, 4.2), lane=t),
        Node("review_date_reached", "catch", "Review date reached", (7.1, 0), lane=o,
             timer="review_due"),
        user("review_warning", "Review the behaviour since the warning", (8.3, 0), lane=o,
             due=DUE_5, **MINE),
        service("record_warning_review", "Record the review and end the action",
                "legal_warning.record_review", (9.5, 0), lane=o),
        Node("warning_reviewed", "end", "Warning letter reviewed", (10.7, 0), lane=o),
    ]
    flows = [
        *chain("warning_started", "prepare_warning_letter", "record_warning_draft",
               "approve_warning_letter", "approval_decision"),
        Flow("approval_decision", "send_warning", name="Approve",
             cond='decision == "approve"'),
        Flow("approval_decision", "withdraw_warning", name="Do not send",
             cond='decision == "do_not_send"'),
        Flow("approval_decision", "record_warning_return", name="Return for changes",
             default=True),
        Flow("record_warning_return", "prepare_warning_letter", channel=0.85),
        Flow("withdraw_warning", "warning_not_sent"),
        *chain("send_warning", "review_date_reached", "review_warning",
               "record_warning_review", "warning_reviewed"),
    ]
    return Document("legal_warning.bpmn", [Process(
        "asb_legal_warning", "Warning letter", (officer.rows[0], leader.rows[1]), nodes, flows,
        [officer, leader],
        doc="A warning letter to a reported person: drafted by the officer, approved by a "
            "team leader (or returned with a reason), sent with nothing about the reporter, "
            "the reporter told, and the behaviour reviewed 20 working days later.")])


def legal_aba() -> Document:
    officer = Lane("Lane_legal_aba_officer", "officer", (-0.8, 2.0))
    o = officer.id
    nodes = [
        Node("aba_started", "start", "Agreement chosen", (0, 0), lane=o),
        user("draft_aba", "Draft the agreement", (1.1, 0), lane=o, due=DUE_5, **MINE),
        service("record_aba_draft", "Record the draft agreement", "legal_aba.record_draft",
                (2.2, 0), lane=o),
        user("record_aba_signed", "Record the signed agreement", (3.3, 0), lane=o,
             due="due_after_working_days(now(), 10)", **MINE),
        service("record_aba_signature", "Record the signing and tell the reporter",
                "legal_aba.record_signature", (4.4, 0), lane=o),
        Node("aba_signed_gateway", "xor", "Signed?", (5.5, 0), lane=o, label="above"),
        Node("aba_not_signed", "end", "Not signed", (5.5, 1.3), lane=o),
        Node("aba_review_date", "catch", "Next review date", (6.6, 0), lane=o,
             timer="next_review_due",
             doc="Every 28 days from the signing, and on the end date."),
        user("review_aba", "Review the agreement", (7.7, 0), lane=o, due=DUE_5, **MINE),
        service("record_aba_review", "Record the review", "legal_aba.record_review",
                (8.8, 0), lane=o),
        Node("aba_running", "xor", "Agreement still running?", (9.9, 0), lane=o,
             label="below"),
        Node("aba_ended", "end", "Agreement ended", (11.0, 0), lane=o),
    ]
    flows = [
        *chain("aba_started", "draft_aba", "record_aba_draft", "record_aba_signed",
               "record_aba_signature", "aba_signed_gateway"),
        Flow("aba_signed_gateway", "aba_review_date", name="Yes", cond="aba_signed"),
        Flow("aba_signed_gateway", "aba_not_signed", name="No", default=True),
        *chain("aba_review_date", "review_aba", "record_aba_review", "aba_running"),
        Flow("aba_running", "aba_review_date", name="Yes", cond='aba_status == "continuing"',
             channel=-0.62),
        Flow("aba_running", "aba_ended", name="No: completed or broken", default=True),
    ]
    return Document("legal_aba.bpmn", [Process(
        "asb_legal_aba", "Acceptable behaviour agreement", officer.rows, nodes, flows,
        [officer],
        doc="A voluntary written agreement (usually 6 months), reviewed every 4 weeks from "
            "the signing until it ends or is broken; the reporter is told when it is signed "
            "and when it ends.")])


def legal_community_protection() -> Document:
    officer = Lane("Lane_legal_cp_officer", "officer", (-0.8, 2.0))
    o = officer.id
    nodes = [
        Node("cp_started", "start", "Community protection chosen", (0, 0), lane=o),
        user("prepare_cpw", "Prepare the Community Protection Warning", (1.1, 0), lane=o,
             due=DUE_5, **MINE),
        service("serve_cpw", "Record the warning as served and tell the reporter",
                "legal_cpn.serve_warning", (2.2, 0), lane=o),
        Node("time_to_comply_passed", "catch", "Time to comply has passed", (3.3, 0), lane=o,
             timer="comply_by"),
        user("check_cpw_compliance", "Check whether the warning was complied with", (4.4, 0),
             lane=o, due=DUE_5, **MINE),
        service("record_cpw_check", "Record the check", "legal_cpn.record_check", (5.5, 0),
                lane=o),
        Node("warning_complied_gateway", "xor", "Complied?", (6.6, 0), lane=o, label="above"),
        Node("warning_complied_with", "end", "Warning complied with", (6.6, 1.3), lane=o),
        user("issue_cpn", "Issue the Community Protection Notice", (7.7, 0), lane=o,
             due=DUE_5, **MINE),
        service("issue_cpn_notice", "Issue the notice and tell the reporter",
                "legal_cpn.issue_notice", (8.8, 0), lane=o),
        Node("appeal_window_closed", "catch", "Appeal window closed", (9.9, 0), lane=o,
             timer="appeal_ends"),
        user("record_cpn_appeal", "Record any appeal", (11.0, 0), lane=o, **MINE),
        service("record_appeal_result", "Record the appeal", "legal_cpn.record_appeal",
                (12.1, 0), lane=o),
        Node("quashed_gateway", "xor", "Notice quashed?", (13.2, 0), lane=o, label="above"),
        Node("notice_quashed", "end", "Notice quashed", (13.2, 1.3), lane=o),
        user("record_cpn_compliance", "Record compliance with the notice", (14.3, 0), lane=o,
             due="due_after_working_days(now(), 20)", **MINE),
        service("record_notice_compliance", "Record the outcome and tell the reporter",
                "legal_cpn.record_compliance", (15.4, 0), lane=o),
        Node("cp_ended", "end", "Community protection ended", (16.5, 0), lane=o),
    ]
    flows = [
        *chain("cp_started", "prepare_cpw", "serve_cpw", "time_to_comply_passed",
               "check_cpw_compliance", "record_cpw_check", "warning_complied_gateway"),
        Flow("warning_complied_gateway", "warning_complied_with", name="Yes",
             cond="warning_complied"),
        Flow("warning_complied_gateway", "issue_cpn", name="No", default=True),
        *chain("issue_cpn", "issue_cpn_notice", "appeal_window_closed", "record_cpn_appeal",
               "record_appeal_result", "quashed_gateway"),
        Flow("quashed_gateway", "notice_quashed", name="Yes", cond="cpn_quashed"),
        Flow("quashed_gateway", "record_cpn_compliance", name="No", default=True),
        *chain("record_cpn_compliance", "record_notice_compliance", "cp_ended"),
    ]
    return Document("legal_community_protection.bpmn", [Process(
        "asb_legal_community_protection", "Community Protection Warning and Notice",
        officer.rows, nodes, flows, [officer],
        doc="Section 43 of the 2014 Act: a written warning to someone aged 16 or over (or a "
            "body) with time to comply; only after that time has passed, and the warning was "
            "not complied with, a notice; 21 days to appeal; then compliance, where a breach "
            "is an offence (fixed penalty, prosecution or remedial action).")])


DOCUMENTS = (legal_warning, legal_aba, legal_community_protection)
