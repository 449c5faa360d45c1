"""Support and partners (promises 4, 5 and 7): referrals, safeguarding, case conferences.

Written to ``bpmn/support.bpmn`` and ``bpmn/safeguarding.bpmn`` by ``scripts/bpmn_layout.py``;
the contract is ``docs/stages/support.md``. One pool per process:

- ``asb_referrals``: the officer picks agencies from the partner directory and what to share;
  one referral (and disclosure) per agency, each followed by its own ``asb_referral_tracking``.
- ``asb_referral_tracking``: reminders to a partner that does not answer, then the officer.
- ``asb_safeguarding``: the safeguarding referral that cannot be skipped (escalated when late).
- ``asb_case_conference``: schedule, invite, record, then follow each action to done.
"""

from __future__ import annotations

from bpmn_layout import OFFICER_TASK, Document, Flow, Lane, Node, Process, chain, service, user

NEXT_WORKING_DAY = "due_after_working_days(now(), 1)"
STARTER_TASK = {"assignee": "started_by"}


def referrals() -> Process:
    lane = Lane("Lane_referrals_officer", "officer", (-0.8, 0.8))
    nodes = [
        Node("referral_started", "start", "Referral started", (0, 0)),
        user("choose_referral_agencies", "Choose agencies and what to share", (1.1, 0),
             **STARTER_TASK),
        service("make_referrals", "Send the referrals and start tracking each",
                "referrals.make_referrals", (2.2, 0)),
        Node("tell_reporter_gateway", "xor", "Tell the reporter?", (3.3, 0), label="above"),
        service("tell_reporter_of_referral", "Tell the reporter support was arranged",
                "referrals.tell_reporter", (4.4, 0)),
        Node("referrals_sent", "end", "Referrals sent", (5.5, 0)),
    ]
    for node in nodes:
        node.lane = lane.id
    flows = [
        *chain("referral_started", "choose_referral_agencies", "make_referrals",
               "tell_reporter_gateway"),
        Flow("tell_reporter_gateway", "tell_reporter_of_referral", name="Yes",
             cond="tell_reporter"),
        Flow("tell_reporter_gateway", "referrals_sent", name="No", default=True, channel=0.55),
        Flow("tell_reporter_of_referral", "referrals_sent"),
    ]
    return Process(
        "asb_referrals", "Referrals to partner agencies", lane.rows, nodes, flows, [lane],
        doc="Refers the case to one or more agencies of the partner directory, sharing only "
            "what the officer chose, with its legal basis recorded; each referral is then "
            "tracked by its own asb_referral_tracking instance (docs/stages/support.md).")


def referral_tracking() -> Process:
    r = 3.0
    lane = Lane("Lane_referral_tracking_officer", "officer", (r - 1.85, r + 1.6))
    nodes = [
        Node("tracking_started", "start", "Referral sent", (0, r)),
        Node("wait_for_answer", "catch", "Wait for the partner's answer", (1, r),
             timer="next_chase_at"),
        service("check_answer", "Check for the partner's answer", "referrals.check_answer",
                (2, r)),
        Node("answered_gateway", "xor", "Answered?", (3, r), label="below-right"),
        Node("tracking_ended", "end", "Tracking ended", (3, r + 1)),
        user("referral_declined", "Referral declined: decide what next", (3, r - 1),
             due=NEXT_WORKING_DAY, **OFFICER_TASK),
        service("record_declined", "Record what happens next", "referrals.record_next_step",
                (4.2, r - 1)),
        Node("declined_handled", "end", "Next step recorded", (5.2, r - 1)),
        Node("chased_gateway", "xor", "Chased enough?", (4.2, r), label="below-right"),
        service("send_chaser", "Send a reminder to the partner", "referrals.send_chaser",
                (5.4, r)),
        user("referral_unanswered", "Partner has not answered", (4.2, r + 1),
             due=NEXT_WORKING_DAY, **OFFICER_TASK),
        service("record_no_answer", "Record the outcome", "referrals.record_no_answer",
                (5.4, r + 1)),
        Node("chase_again_gateway", "xor", "Chase again?", (6.6, r + 1), label="below-right"),
        Node("referral_settled", "end", "Referral settled", (7.6, r + 1)),
    ]
    for node in nodes:
        node.lane = lane.id
    flows = [
        *chain("tracking_started", "wait_for_answer", "check_answer", "answered_gateway"),
        Flow("answered_gateway", "tracking_ended", name="Accepted or closed",
             cond='referral_next == "ended"'),
        Flow("answered_gateway", "referral_declined", name="Declined",
             cond='referral_next == "declined"'),
        Flow("answered_gateway", "chased_gateway", name="No answer", default=True),
        *chain("referral_declined", "record_declined", "declined_handled"),
        Flow("chased_gateway", "referral_unanswered", name="Yes",
             cond='referral_next == "escalate"'),
        Flow("chased_gateway", "send_chaser", name="No", default=True),
        Flow("send_chaser", "wait_for_answer", channel=r - 1.65),
        *chain("referral_unanswered", "record_no_answer", "chase_again_gateway"),
        Flow("chase_again_gateway", "send_chaser", name="Yes", cond='referral_next == "chase"'),
        Flow("chase_again_gateway", "referral_settled", name="No", default=True),
    ]
    return Process(
        "asb_referral_tracking", "Referral tracking", lane.rows, nodes, flows, [lane],
        doc="Follows one referral: at each chaser interval it reads the partner's answer from "
            "the case record; no answer means a reminder, and after the last reminder the "
            "officer decides. A decline asks the officer what happens next.")


def safeguarding() -> Process:
    s = 0.0
    officer = Lane("Lane_safeguarding_officer", "officer", (s - 0.8, s + 0.85))
    leader = Lane("Lane_safeguarding_team_leader", "team_leader", (s + 0.85, s + 2.45))
    r2 = s + 1.65
    nodes = [
        Node("safeguarding_started", "start", "Child or vulnerable adult at risk", (0, s),
             lane=officer.id),
        user("make_safeguarding_referral", "Make the safeguarding referral", (1.1, s),
             lane=officer.id, due=NEXT_WORKING_DAY, **OFFICER_TASK),
        Node("safeguarding_deadline", "boundary", "Referral deadline passed",
             host="make_safeguarding_referral", pos=0.7, timer=NEXT_WORKING_DAY,
             interrupting=False),
        service("record_safeguarding_referral", "Record the referral and the disclosure",
                "safeguarding.record_referral", (2.4, s), lane=officer.id),
        Node("safeguarding_made", "end", "Safeguarding referral made", (3.6, s),
             lane=officer.id, terminate=True,
             doc="Terminate end event: ends the escalation branch too, if it is still open."),
        user("safeguarding_overdue", "Safeguarding referral is overdue", (2.4, r2),
             lane=leader.id, assignee="team_leader", due=NEXT_WORKING_DAY),
        Node("safeguarding_escalated", "end", "Escalation handled", (3.6, r2), lane=leader.id),
    ]
    flows = [
        *chain("safeguarding_started", "make_safeguarding_referral",
               "record_safeguarding_referral", "safeguarding_made"),
        *chain("safeguarding_deadline", "safeguarding_overdue", "safeguarding_escalated"),
    ]
    return Process(
        "asb_safeguarding", "Safeguarding referral", (officer.rows[0], leader.rows[1]), nodes,
        flows, [officer, leader],
        doc="The safeguarding referral for a child or vulnerable adult at risk, due by the "
            "next working day and escalated to the team leader when late. Called by asb_case "
            "whenever the safeguarding flag is set; an officer may also start another.")


def case_conference() -> Process:
    c = 5.9
    lane = Lane("Lane_conference_officer", "officer", (c - 0.9, c + 1.6))
    nodes = [
        Node("conference_requested", "start", "Conference requested", (0, c)),
        user("schedule_conference", "Schedule the case conference", (1.1, c), **STARTER_TASK),
        service("record_schedule", "Record the conference date", "conference.schedule",
                (2.2, c)),
        service("send_invitations", "Invite the agencies", "conference.send_invitations",
                (3.3, c)),
        Node("conference_time", "catch", "Conference time", (4.3, c), timer="conference_at"),
        user("record_conference", "Record the conference", (5.3, c),
             due="due_after_working_days(conference_at, 2)", **OFFICER_TASK),
        service("record_outcome", "Record attendance, summary and actions",
                "conference.record", (6.4, c)),
        Node("after_conference", "xor", "What next?", (7.5, c), label="below-right"),
        Node("no_actions", "end", "No actions agreed", (7.5, c + 1)),
        Node("next_action_due", "catch", "Next action due", (8.6, c),
             timer="next_action_check"),
        service("check_actions", "Check the actions and remind owners",
                "conference.check_actions", (9.7, c)),
        Node("actions_gateway", "xor", "All done?", (10.8, c), label="below-right"),
        Node("actions_done", "end", "All actions done or dropped", (11.9, c)),
        user("conference_actions_overdue", "Conference actions overdue", (10.8, c + 1),
             due=NEXT_WORKING_DAY, **OFFICER_TASK),
        service("record_review", "Record the follow-up", "conference.record_review",
                (9.7, c + 1)),
    ]
    for node in nodes:
        node.lane = lane.id
    flows = [
        *chain("conference_requested", "schedule_conference", "record_schedule",
               "send_invitations", "conference_time", "record_conference", "record_outcome",
               "after_conference"),
        Flow("after_conference", "schedule_conference", name="Not held",
             cond='conference_next == "reschedule"', channel=c - 0.65),
        Flow("after_conference", "no_actions", name="No actions",
             cond='conference_next == "done"'),
        Flow("after_conference", "next_action_due", name="Actions", default=True),
        *chain("next_action_due", "check_actions", "actions_gateway"),
        Flow("actions_gateway", "actions_done", name="Yes", cond='conference_next == "done"'),
        Flow("actions_gateway", "conference_actions_overdue", name="Overdue",
             cond='conference_next == "escalate"'),
        Flow("actions_gateway", "next_action_due", name="Not yet", default=True,
             channel=c - 0.65),
        *chain("conference_actions_overdue", "record_review", "check_actions"),
    ]
    return Process(
        "asb_case_conference", "Multi-agency case conference", lane.rows, nodes, flows, [lane],
        doc="Schedules a multi-agency case conference, invites the agencies, records who came, "
            "the summary and the actions with owners and due dates, then reminds owners of "
            "overdue actions until every action is done (or the officer stops following them).")


def support() -> Document:
    return Document("support.bpmn", [referrals(), referral_tracking(), case_conference()])


def safeguarding_document() -> Document:
    """Its own file: asb_case calls it, so it belongs to the main lifecycle's contract."""
    return Document("safeguarding.bpmn", [safeguarding()])


DOCUMENTS = (support, safeguarding_document)
