"""Moving running cases onto a published version: the dry run, one case, a batch (one unsafe)."""

from __future__ import annotations

import re

from sqlalchemy import select

from cases.audit import AuditEvent
from engine.models import ProcessInstance
from tests.officer.support import ASSESSMENT, complete_by_api
from tests.owner.conftest import audit_rows, shipped, version_of
from web.extensions import unit

ASB_CASE = shipped("asb_case.bpmn")
# Only the closing end event's label: safe wherever a case is.
RELABELLED = ASB_CASE.replace(b'name="Case closed"', b'name="The case is closed"')
# The first-contact stage under a new id: a case already in it cannot move; one still being
# risk-assessed can (it will meet the stage under its new id).
RENAMED_STAGE = ASB_CASE.replace(b"call_first_contact", b"call_first_contact_v2")


def _definition(api, reference: str) -> int:
    with api.app.app_context(), unit() as session:
        return session.scalars(
            select(ProcessInstance.definition_id).where(
                ProcessInstance.business_key == reference, ProcessInstance.process_id == "asb_case"
            )
        ).one()


def _instance(api, reference: str) -> int:
    with api.app.app_context(), unit() as session:
        return session.scalars(
            select(ProcessInstance.id).where(
                ProcessInstance.business_key == reference, ProcessInstance.process_id == "asb_case"
            )
        ).one()


def _publish(petra, raw: bytes) -> int:
    draft = petra.save(raw).get_json()
    assert draft["problems"] == [], draft["problems"]
    response = petra.post(f"/diagrams/versions/{draft['id']}/publish", {"reason": "New words"})
    assert response.status_code == 302
    return int(draft["id"])


def _plan_row(html: str, instance_id: int) -> str:
    found = re.search(
        rf'<tr class="govuk-table__row" data-instance="{instance_id}">.*?</tr>', html, re.S
    )
    assert found, instance_id
    return found.group(0)


def test_the_dry_run_says_per_case_whether_it_is_safe_and_changes_nothing(api, petra):
    old = version_of(api, "asb_case", published=True).id
    reference = api.open_case()["reference"]
    target = _publish(petra, RELABELLED)
    before = _definition(api, reference)
    response = petra.get(f"/diagrams/versions/{target}/migrate")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    row = _plan_row(html, _instance(api, reference))
    assert reference in row and "Safe" in row and "Assess the risk" in row
    assert "Move the 1 safe case" in html
    assert _definition(api, reference) == before == old  # a dry run moves nothing
    (planned,) = audit_rows(api, "owner.migration_planned")
    assert planned.summary["cases"] == 1 and planned.summary["safe"] == 1


def test_one_case_is_moved_with_a_reason_and_audited(api, petra):
    reference = api.open_case()["reference"]
    target = _publish(petra, RELABELLED)
    instance = _instance(api, reference)
    response = petra.post(
        f"/diagrams/versions/{target}/migrate",
        {"reason": "Clearer words", "instance": str(instance)},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 moved" in html and "Moved to version 2" in html
    assert _definition(api, reference) == target
    (moved,) = audit_rows(api, "owner.cases_migrated")
    assert moved.actor == "petra" and moved.summary["reason"] == "Clearer words"
    assert moved.summary["migrated"] == 1
    with api.app.app_context(), unit() as session:
        case_events = session.scalars(
            select(AuditEvent.action).where(AuditEvent.case_reference == reference)
        ).all()
        assert "instance_migrated" in case_events


def test_a_batch_moves_the_safe_cases_and_leaves_the_unsafe_one_saying_why(api, petra):
    waiting = api.open_case()["reference"]  # still at the risk assessment
    ahead = api.open_case()["reference"]
    complete_by_api(api, api.open_task(ahead, "assess_risk")["id"], ASSESSMENT)
    target = _publish(petra, RENAMED_STAGE)
    html = petra.get(f"/diagrams/versions/{target}/migrate").get_data(as_text=True)
    assert "Not safe" in _plan_row(html, _instance(api, ahead))
    assert "Safe" in _plan_row(html, _instance(api, waiting))
    response = petra.post(f"/diagrams/versions/{target}/migrate", {"reason": "New stage id"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 moved" in html and "1 left as they were" in html
    results = re.search(r'<table class="govuk-table" id="results">.*?</table>', html, re.S)[0]
    assert "Left on version 1" in results and "First contact" in results
    assert _definition(api, waiting) == target
    assert _definition(api, ahead) != target
    (moved,) = audit_rows(api, "owner.cases_migrated")
    assert (moved.summary["migrated"], moved.summary["skipped"]) == (1, 1)


def test_moving_needs_a_reason_and_an_unsafe_case_cannot_be_moved_alone(api, petra):
    ahead = api.open_case()["reference"]
    complete_by_api(api, api.open_task(ahead, "assess_risk")["id"], ASSESSMENT)
    target = _publish(petra, RENAMED_STAGE)
    before = _definition(api, ahead)
    response = petra.post(f"/diagrams/versions/{target}/migrate", {"reason": ""})
    assert response.status_code == 400
    assert "Enter why you are doing this" in response.get_data(as_text=True)
    response = petra.post(
        f"/diagrams/versions/{target}/migrate",
        {"reason": "Try", "instance": str(_instance(api, ahead))},
    )
    assert response.status_code == 422
    assert "cannot move safely" in response.get_data(as_text=True)
    assert _definition(api, ahead) == before
    assert audit_rows(api, "owner.cases_migrated") == []


def test_a_draft_takes_no_cases_and_a_manager_may_only_look(api, petra, signed_in):
    api.open_case()
    draft = petra.save(RELABELLED).get_json()
    page = petra.get(f"/diagrams/versions/{draft['id']}/migrate").get_data(as_text=True)
    assert "only a published version can take running cases" in page
    refused = petra.post(f"/diagrams/versions/{draft['id']}/migrate", {"reason": "x"})
    assert refused.status_code == 400
    target = _publish(petra, RELABELLED.replace(b"The case is", b"Case now"))
    maria = signed_in("maria")
    assert maria.get(f"/diagrams/versions/{target}/migrate").status_code == 200
    assert maria.post(f"/diagrams/versions/{target}/migrate", {"reason": "x"}).status_code == 403
