"""Uploading diagrams as drafts, reading them back byte-for-byte, publishing them."""

from __future__ import annotations

import pytest

from tests.api.support import BPMN, error_of

XML = {"Content-Type": "application/xml"}
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def upload(api, raw: bytes, who="petra", headers=None):
    return api.post("/api/v1/diagrams", who, data=raw, headers=headers or XML)


def test_an_upload_is_a_draft_with_a_rising_version_and_reads_back_byte_for_byte(api):
    raw = (BPMN / "closure.bpmn").read_bytes().replace(b"Close the case", b"Close it, now")
    raw = b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n")  # BOM and CRLF survive too
    response = upload(api, raw)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["process_ids"] == ["asb_closure"] and body["version"] == 2
    assert body["executable"] is True and body["problems"] == []
    assert body["published"] is False
    back = api.get(f"/api/v1/diagrams/{body['id']}", "petra")
    assert back.status_code == 200 and back.mimetype == "application/xml"
    assert back.get_data() == raw
    again = upload(api, raw).get_json()
    assert (again["id"], again["version"]) == (body["id"], 2)  # the same upload, found again


def test_publishing_makes_new_cases_use_the_draft(api):
    raw = (BPMN / "closure.bpmn").read_bytes().replace(b"Close the case", b"Close it, now")
    draft = upload(api, raw).get_json()
    response = api.post(f"/api/v1/diagrams/{draft['id']}/publish", "petra")
    assert response.status_code == 200
    assert response.get_json()["published"] is True
    with api.app.app_context():
        from web.extensions import case_engine, unit

        with unit() as session:
            live = case_engine().definitions.published(session, "asb_closure")
            assert live.id == draft["id"]


def test_a_file_with_two_processes_is_one_draft(api):
    body = upload(api, (BPMN / "triage.bpmn").read_bytes() + b"\n").get_json()
    assert body["process_ids"] == ["asb_triage", "asb_risk_assessment"]
    assert body["executable"] is True


BROKEN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="d" targetNamespace="t">
  <bpmn:process id="broken_one" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="do"/>
    <bpmn:serviceTask id="do"><bpmn:incoming>a</bpmn:incoming>
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="nothing.here"
          xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"/>
      </bpmn:extensionElements>
      <bpmn:outgoing>b</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:sequenceFlow id="b" sourceRef="do" targetRef="e"/>
    <bpmn:endEvent id="e"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def test_a_diagram_with_problems_is_stored_as_a_draft_that_cannot_be_published(api):
    response = upload(api, BROKEN)
    assert response.status_code == 201
    body = response.get_json()
    assert body["executable"] is False and body["version"] == 1
    assert body["problems"] and {"element_id", "element_type", "message"} <= set(
        body["problems"][0])
    assert any(p["element_id"] == "do" for p in body["problems"])
    assert api.get(f"/api/v1/diagrams/{body['id']}", "adam").get_data() == BROKEN
    before = api.counts()
    error = error_of(api.post(f"/api/v1/diagrams/{body['id']}/publish", "petra"), 422,
                     "validation_failed")
    assert "do" in error["details"] and error["problems"]
    assert api.counts() == before


def test_a_dmn_file_is_kept_as_a_draft_but_is_published_with_its_processes(api):
    raw = (BPMN / "triage_priority.dmn").read_bytes()
    body = upload(api, raw).get_json()
    assert body["executable"] is False and body["process_ids"] == ["dmn:triage_priority"]
    assert api.get(f"/api/v1/diagrams/{body['id']}", "petra").get_data() == raw


@pytest.mark.parametrize("raw", [
    b"<bpmn:definitions", b"not xml at all", b"\xff\xfe<x/>",
    b"<html><body>hello</body></html>",
    f'<definitions xmlns="{BPMN_NS}" id="d"/>'.encode(),  # no process
])
def test_anything_but_well_formed_bpmn_or_dmn_is_422_and_stores_nothing(api, raw):
    before = api.counts()
    error = error_of(upload(api, raw), 422, "validation_failed")
    assert "body" in error["details"]
    assert api.counts() == before


def test_oversized_diagrams_are_413_and_wrong_content_types_415(api):
    before = api.counts()
    big = b"<x>" + b" " * (5 * 1024 * 1024) + b"</x>"
    error_of(upload(api, big), 413, "too_large")
    error_of(upload(api, (BPMN / "closure.bpmn").read_bytes(),
                    headers={"Content-Type": "application/json"}), 415,
             "unsupported_media_type")
    assert api.counts() == before


@pytest.mark.parametrize("who", ["olivia", "tara", "maria", "paul"])
def test_only_process_owners_and_admins_upload_or_publish(api, who):
    before = api.counts()
    error_of(upload(api, BROKEN, who), 403, "forbidden")
    error_of(api.post("/api/v1/diagrams/1/publish", who), 403, "forbidden")
    assert api.counts() == before


def test_unknown_diagrams_are_not_found(api):
    error_of(api.get("/api/v1/diagrams/999999", "petra"), 404, "not_found")
    error_of(api.get(f"/api/v1/diagrams/{2**70}", "petra"), 404, "not_found")
    error_of(api.post("/api/v1/diagrams/999999/publish", "petra"), 404, "not_found")
    error_of(api.get("/api/v1/diagrams/abc", "petra"), 404, "not_found")


def test_a_shipped_version_reads_back_as_its_file(api):
    with api.app.app_context():
        from sqlalchemy import select

        from engine.models import DefinitionVersion
        from web.extensions import unit

        with unit() as session:
            row_id = session.scalar(select(DefinitionVersion.id).where(
                DefinitionVersion.process_id == "asb_intake"))
    back = api.get(f"/api/v1/diagrams/{row_id}", "maria")
    assert back.get_data() == (BPMN / "intake.bpmn").read_bytes()


def test_a_called_process_reaches_new_cases_while_running_cases_keep_their_own(api):
    before = api.open_case()["reference"]
    raw = (BPMN / "first_contact.bpmn").read_bytes().replace(
        b'name="Make first contact"', b'name="Phone the reporter"')
    draft = upload(api, raw).get_json()
    assert api.post(f"/api/v1/diagrams/{draft['id']}/publish", "petra").status_code == 200
    after = api.open_case()["reference"]

    def contact_title(reference: str) -> str:
        api.post(f"/api/v1/tasks/{api.open_task(reference, 'assess_risk')['id']}/complete",
                 json={"data": {"harm": "low", "community_impact": "low"}})
        return str(api.open_task(reference, "first_contact")["title"])

    # asb_case bundles the first-contact process: publishing it bundled asb_case again.
    assert contact_title(after) == "Phone the reporter"
    assert contact_title(before) == "Make first contact"
    with api.app.app_context():
        from sqlalchemy import select

        from cases.audit import AuditEvent
        from web.extensions import unit

        with unit() as session:
            published = session.scalars(select(AuditEvent.summary).where(
                AuditEvent.action == "api.diagram_published")).all()
    assert [s["process_ids"] for s in published] == [["asb_first_contact"], ["asb_case"]]
