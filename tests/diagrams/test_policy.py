"""The promises no diagram may break: each broken in a shipped diagram; publishing refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from lxml import etree
from sqlalchemy.orm import Session

from cases import config as council_config
from engine import clock
from tasks.diagram_checks import PROMISES, check_diagram, policy_problems
from tests.api.support import XMAS_EVE, Api, error_of, make_api
from tests.diagrams.test_validation import (
    BPMN_DIR,
    SHIPPED,
    edited,
    one,
    remove,
    set_attr,
    set_text,
    tag,
)

DUE = "//bpmn:userTask[@id='first_contact']//spiffworkflow:property[@name='due']"


@pytest.fixture
def session(sqlite_engine) -> Iterator[Session]:
    """A session on the test database, rolled back afterwards (council settings included)."""
    connection = sqlite_engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


def broken(session: Session | None, xml: bytes, rule: str) -> list[tuple[str, str]]:
    """(element id, message) of each problem of ``rule``, every problem being of a promise."""
    problems = policy_problems(session, xml)
    assert problems and {p.rule for p in problems} == {rule}, problems
    assert all(p.severity == "error" for p in problems)
    return [(p.element_id, p.message) for p in problems]


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_diagrams_keep_every_promise_under_the_councils_settings(session, name):
    assert policy_problems(session, (BPMN_DIR / name).read_bytes()) == []


def test_every_process_with_a_promise_is_shipped():
    shipped = {
        el.get("id")
        for name in SHIPPED
        for el in etree.parse(str(BPMN_DIR / name)).getroot().iter(tag("bpmn:process"))
    }
    assert set(PROMISES) <= shipped


# -- first contact ----------------------------------------------------------------------------


def test_a_first_contact_deadline_longer_than_the_policy(session):
    xml = edited(
        "first_contact.bpmn", set_attr(DUE, "value", "due_after_working_days(received_at, 10)")
    )
    assert broken(session, xml, "first_contact_deadline") == [
        (
            "first_contact",
            "The deadline gives Tue 12 Jan 2027 17:00 for a priority 1 report "
            "received Thu 24 Dec 2026 10:00, later than the council's policy of 1 working day "
            "(Tue 29 Dec 2026 17:00).",
        )
    ]


def test_the_policy_is_the_councils_setting_not_a_constant(session):
    xml = edited(
        "first_contact.bpmn",
        set_attr(DUE, "value", "due_after_working_days(received_at, 1 if priority == 1 else 5)"),
    )
    assert policy_problems(session, xml) == []  # the default policy: 1 and 5 working days
    council_config.set_setting(
        session,
        "first_contact_working_days",
        {"1": 1, "2": 3},
        datetime(2020, 1, 1, tzinfo=UTC),
        recorded_by="maria",
    )
    [(element, message)] = broken(session, xml, "first_contact_deadline")
    assert element == "first_contact"
    assert "for a priority 2 report" in message and "policy of 3 working days" in message


def test_a_first_contact_timer_later_than_the_policy(session):
    xml = edited(
        "first_contact.bpmn",
        lambda r: (
            setattr(one(r, "//bpmn:timeDate"), "tag", tag("bpmn:timeDuration"))
            or setattr(one(r, "//bpmn:timeDuration"), "text", '"P10D"')
        ),
    )
    [(element, message)] = broken(session, xml, "first_contact_deadline")
    assert element == "first_contact_deadline"
    assert message.startswith("The timer gives Sun 03 Jan 2027 10:00 for a priority 1 report")


def test_a_missed_first_contact_must_be_escalated(session):
    xml = edited("first_contact.bpmn", lambda r: remove(r, "//bpmn:timerEventDefinition"))
    assert (
        "first_contact",
        "Nothing happens when the first-contact deadline passes: attach a "
        "timer event at first_contact_due that escalates to the team leader.",
    ) in [(p.element_id, p.message) for p in policy_problems(session, xml)]


def test_a_first_contact_task_without_a_deadline(session):
    xml = edited("first_contact.bpmn", lambda r: remove(r, DUE))
    assert broken(session, xml, "first_contact_deadline") == [
        (
            "first_contact",
            "The first-contact task has no deadline: set its 'due' property to first_contact_due.",
        )
    ]


def test_the_triage_must_set_the_deadline_from_the_policy(session):
    xml = edited(
        "triage.bpmn",
        set_attr(
            "//spiffworkflow:serviceTaskOperator[@id='triage.set_deadline']",
            "id",
            "intake.link_related_cases",
        ),
    )
    [(element, message)] = broken(session, xml, "first_contact_deadline")
    assert element == "asb_triage" and message.startswith(
        "The process never has the first-contact deadline set"
    )


def test_the_case_must_always_make_first_contact(session):
    def skip(root):  # risk assessment straight to the action plan
        one(root, "//bpmn:sequenceFlow[@id='Flow_safeguarding_split_call_first_contact']").set(
            "targetRef", "call_action_plan"
        )

    found = broken(session, edited("asb_case.bpmn", skip), "first_contact_deadline")
    assert found == [
        (
            "case_closed",
            "A case can finish here without the first contact (process "
            "asb_first_contact), but the service commitment promises to contact the "
            "reporter within 1 or 5 working days.",
        )
    ]


# -- safeguarding -----------------------------------------------------------------------------


def test_a_set_safeguarding_flag_must_lead_to_the_referral(session):
    xml = edited(
        "asb_case.bpmn",
        set_text(
            "//bpmn:sequenceFlow[@id='Flow_safeguarding_needed_call_safeguarding']"
            "/bpmn:conditionExpression",
            "safeguarding and hate",
        ),
    )
    assert broken(session, xml, "safeguarding_referral") == [
        (
            "case_closed",
            "A case can finish here when the safeguarding flag is set without the "
            "safeguarding referral (process asb_safeguarding), but the service commitment promises "
            "to link a child or vulnerable adult at risk with safeguarding services.",
        )
    ]


def test_a_referral_only_when_the_flag_is_unset_is_not_enough(session):
    xml = edited(
        "asb_case.bpmn",
        set_text(
            "//bpmn:sequenceFlow[@id='Flow_safeguarding_needed_call_safeguarding']"
            "/bpmn:conditionExpression",
            "not safeguarding",
        ),
    )
    assert [e for e, _m in broken(session, xml, "safeguarding_referral")] == ["case_closed"]


def test_the_safeguarding_process_must_make_the_referral(session):
    def skip(root):  # the referral task straight to the end
        one(root, "//bpmn:sequenceFlow[@sourceRef='make_safeguarding_referral']").set(
            "targetRef", "safeguarding_made"
        )
        remove(root, "//bpmn:sequenceFlow[@sourceRef='record_safeguarding_referral']")
        remove(root, "//bpmn:serviceTask[@id='record_safeguarding_referral']")

    problems = policy_problems(session, edited("safeguarding.bpmn", skip))
    assert [(p.element_id, p.rule) for p in problems] == [
        ("asb_safeguarding", "safeguarding_referral")
    ]


def test_an_escalation_branch_that_terminates_the_referral_breaks_the_promise(session):
    xml = edited(
        "safeguarding.bpmn",
        lambda r: one(r, "//bpmn:endEvent[@id='safeguarding_escalated']").append(
            etree.Element(tag("bpmn:terminateEventDefinition"))
        ),
    )
    assert [e for e, _m in broken(session, xml, "safeguarding_referral")] == [
        "safeguarding_escalated"
    ]


# -- the named officer, closure ---------------------------------------------------------------


def test_a_new_case_must_be_assigned_a_named_officer(session):
    xml = edited(
        "asb_case.bpmn",
        set_text(
            "//bpmn:sequenceFlow[@id='Flow_officer_kept_gateway_to_risk_assessment']"
            "/bpmn:conditionExpression",
            "reopened or priority == 2",
        ),
    )
    [(element, message)] = broken(session, xml, "officer_named")
    assert element == "case_closed"
    assert message.startswith(
        "A case can finish here for a new case without the officer's assignment"
    )


def test_the_acknowledgement_must_name_the_officer(session):
    xml = edited(
        "assignment.bpmn",
        set_attr(
            "//spiffworkflow:serviceTaskOperator[@id='notify.acknowledge']",
            "id",
            "assignment.current_officer",
        ),
    )
    assert broken(session, xml, "officer_named") == [
        (
            "asb_assignment",
            "The process never has the acknowledgement naming the officer "
            "(notify.acknowledge), but the service commitment promises to tell the reporter who "
            "their case officer is.",
        )
    ]


def test_the_reporter_must_be_told_at_closure(session):
    def skip(root):
        one(root, "//bpmn:sequenceFlow[@id='Flow_record_closure_notify_closure']").set(
            "targetRef", "closure_done"
        )

    assert broken(session, edited("closure.bpmn", skip), "told_at_closure") == [
        (
            "closure_done",
            "A case can finish here without the closure notice (notify.closure), "
            "but the service commitment promises to keep the reporter informed, closure included.",
        )
    ]


# -- Case Review and complaints ---------------------------------------------------------------


def test_a_case_review_application_must_always_be_handled(session):
    xml = edited(
        "asb_case.bpmn",
        set_attr("//bpmn:message[@id='Message_case_review_application']", "name", "review_request"),
    )
    assert broken(session, xml, "case_review_available") == [
        (
            "asb_case",
            "Nothing in the process handles the message 'case_review_application', but "
            "the service commitment promises the right to ask for an ASB Case Review.",
        )
    ]


def test_a_case_review_application_must_start_the_case_review(session):
    xml = edited(
        "asb_case.bpmn",
        set_attr(
            "//spiffworkflow:serviceTaskOperator[@id='case_review.apply_from_case']",
            "id",
            "assignment.current_officer",
        ),
    )
    [(element, _message)] = broken(session, xml, "case_review_available")
    assert element == "case_review_applied"


def test_the_case_review_must_tell_the_applicant_the_decision(session):
    def skip(root):  # threshold not met: straight to the end, nobody told
        one(root, "//bpmn:sequenceFlow[@targetRef='threshold_not_met']").set(
            "targetRef", "no_review"
        )

    found = broken(session, edited("case_review.bpmn", skip), "case_review_available")
    assert [e for e, _m in found] == ["no_review"]


def test_a_complaint_must_always_be_possible(session):
    xml = edited("asb_case.bpmn", lambda r: remove(r, "//bpmn:subProcess[@id='complaint_made']"))
    assert ("asb_case", "complaint_available") in [
        (p.element_id, p.rule) for p in policy_problems(session, xml)
    ]


# -- what a process owner sees ----------------------------------------------------------------


def test_promises_come_with_the_engine_rules_in_one_list(session):
    xml = edited(
        "closure.bpmn",
        set_attr(
            "//spiffworkflow:serviceTaskOperator[@id='notify.closure']", "id", "notify.closur"
        ),
    )
    found = {(p.element_id, p.rule) for p in check_diagram(session, xml, bpmn_dir=BPMN_DIR)}
    assert found == {
        ("notify_closure", "service_task_operator"),
        ("asb_closure", "told_at_closure"),
    }


@pytest.fixture
def api(tmp_path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path)


def test_publishing_a_draft_that_breaks_a_promise_is_refused_with_the_reason(api):
    raw = edited(
        "first_contact.bpmn", set_attr(DUE, "value", "due_after_working_days(received_at, 10)")
    )
    response = api.post(
        "/api/v1/diagrams", "petra", data=raw, headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["executable"] is False and body["published"] is False
    [problem] = body["problems"]
    assert problem["element_id"] == "first_contact"
    assert (problem["rule"], problem["severity"]) == ("first_contact_deadline", "error")
    before = api.counts()
    error = error_of(
        api.post(f"/api/v1/diagrams/{body['id']}/publish", "petra"), 422, "validation_failed"
    )
    assert "later than the council's policy of 1 working day" in error["details"]["first_contact"]
    assert api.counts() == before


def test_a_draft_with_only_warnings_can_be_published(api):
    raw = edited("closure.bpmn", lambda r: remove(r, "//*[@bpmnElement='close_case']"))
    body = api.post(
        "/api/v1/diagrams", "petra", data=raw, headers={"Content-Type": "application/xml"}
    ).get_json()
    assert body["executable"] is True
    assert [(p["element_id"], p["rule"], p["severity"]) for p in body["problems"]] == [
        ("close_case", "layout", "warning")
    ]
    response = api.post(f"/api/v1/diagrams/{body['id']}/publish", "petra")
    assert response.status_code == 200 and response.get_json()["published"] is True
