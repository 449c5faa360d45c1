"""The editors' pages and what they call: live checks, saving drafts, importing a file."""

from __future__ import annotations

import io
import json
import re

import pytest

from tests.api.support import BPMN
from tests.owner.conftest import XML, audit_rows, shipped, stored, version_of

FIRST_CONTACT = shipped("first_contact.bpmn")
RENAMED = FIRST_CONTACT.replace(b'name="Make first contact"', b'name="Call the reporter"')
BROKEN_TIMER = FIRST_CONTACT.replace(
    b"first_contact_due</bpmn:timeDate>", b"due_after_working_days(received_at, 1</bpmn:timeDate>"
)
NO_FORM = FIRST_CONTACT.replace(b'<spiffworkflow:property name="form" value="first_contact"/>', b"")


def _data(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="owner-data" nonce="([^"]+)">'
        r"(.*?)</script>",
        html,
        re.S,
    )
    assert found, "no page data"
    return json.loads(found.group(2))


def test_the_editor_page_loads_the_modeler_with_the_pages_nonce_and_the_catalog(api, petra):
    live = version_of(api, "asb_first_contact", published=True)
    response = petra.get(f"/diagrams/versions/{live.id}/edit")
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all(f'nonce="{nonce}"' in tag for tag in scripts)
    order = [src for tag in scripts for src in re.findall(r'src="([^"]+)"', tag)]
    assert order[-3:] == [
        "/static/vendor/bpmn-js/bpmn-modeler.production.min.js",
        "/static/vendor/bpmnlint/bpmnlint.min.js",
        "/static/js/owner/editor.js",
    ]
    assert " style=" not in html and "<style" not in html
    data = _data(html)
    assert data["source_url"] == f"/diagrams/versions/{live.id}/source"
    assert data["save_url"] == "/diagrams/drafts" and data["check_url"] == "/diagrams/check"
    catalog = data["catalog"]
    assert {"key": "first_contact", "title": "Make first contact"} in catalog["forms"]
    assert "first_contact.record_contact" in {o["name"] for o in catalog["operators"]}
    assert {r["value"] for r in catalog["roles"]} >= {"officer", "team_leader"}
    assert "asb_first_contact" in {p["id"] for p in catalog["processes"]}
    assert "triage_priority" in {d["id"] for d in catalog["decisions"]}
    assert "due_after_working_days(received_at, n)" in {h["call"] for h in catalog["helpers"]}
    assert "due_after_working_days(received_at, n)" in html  # the helpers, listed in words
    (opened,) = audit_rows(api, "owner.diagram_opened")
    assert opened.object_id == str(live.id) and opened.actor == "petra"


def test_the_moddle_descriptor_covers_every_spiffworkflow_element_our_diagrams_use(petra):
    with petra.get("/static/js/owner/spiffworkflow.json") as response:
        assert response.status_code == 200
        descriptor = json.loads(response.get_data())
    assert descriptor["uri"] == "http://spiffworkflow.org/bpmn/schema/1.0/core"
    types = {t["name"][:1].lower() + t["name"][1:] for t in descriptor["types"]}
    used = set()
    for path in BPMN.glob("*.bpmn"):
        used |= set(re.findall(r"<spiffworkflow:(\w+)", path.read_text()))
    assert used and used <= types | {"property", "parameter"}


def test_the_live_check_puts_each_problem_on_its_element(petra):
    response = petra.check(BROKEN_TIMER)
    assert response.status_code == 200
    problems = response.get_json()["problems"]
    assert problems and {p["element_id"] for p in problems} == {"first_contact_deadline"}
    assert any("not valid Python" in p["message"] for p in problems)
    assert set(problems[0]) == {"element_id", "element_type", "message", "rule", "severity"}
    missing = petra.check(NO_FORM).get_json()["problems"]
    assert any(p["element_id"] == "first_contact" and p["severity"] == "error" for p in missing)
    assert petra.check(FIRST_CONTACT).get_json() == {"problems": []}


def test_a_draft_is_saved_audited_and_found_again_when_saved_unchanged(api, petra):
    live = version_of(api, "asb_first_contact", published=True)
    response = petra.save(RENAMED, based_on=live.id)
    assert response.status_code == 201
    body = response.get_json()
    assert body["version"] == 2 and body["process_ids"] == ["asb_first_contact"]
    assert body["executable"] is True and body["problems"] == [] and body["published"] is False
    assert body["version_url"] == f"/diagrams/versions/{body['id']}"
    assert body["edit_url"] == f"/diagrams/versions/{body['id']}/edit"
    (saved,) = audit_rows(api, "owner.draft_saved")
    assert saved.actor == "petra" and saved.object_id == str(body["id"])
    assert saved.summary["based_on"] == live.id and saved.summary["version"] == 2
    again = petra.save(RENAMED).get_json()
    assert (again["id"], again["version"]) == (body["id"], 2)


def test_a_draft_with_problems_is_kept_and_says_what_is_wrong(petra):
    body = petra.save(BROKEN_TIMER).get_json()
    assert body["executable"] is False
    assert {p["element_id"] for p in body["problems"]} == {"first_contact_deadline"}


def test_a_decision_table_is_saved_as_a_draft_of_the_table(api, petra):
    raw = shipped("triage_priority.dmn").replace(
        b'name="Triage priority"', b'name="Triage priority (draft)"'
    )
    body = petra.save(raw).get_json()
    assert body["process_ids"] == ["dmn:triage_priority"] and body["problems"] == []
    assert body["version_url"] == "/diagrams/decisions/triage_priority"
    html = petra.get("/diagrams/decisions/triage_priority").get_data(as_text=True)
    assert 'data-version="1"' in html
    editor = petra.get(body["edit_url"])
    assert editor.status_code == 200
    assert "/static/vendor/dmn-js/dmn-modeler.production.min.js" in editor.get_data(True)


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (FIRST_CONTACT, {"Content-Type": "application/json"}, 415),
        (b"<x>" + b" " * (5 * 1024 * 1024) + b"</x>", XML, 413),
        (b"<bpmn:definitions", XML, 422),
        (b"<html><body>hello</body></html>", XML, 422),
    ],
)
def test_a_save_or_check_that_is_not_a_diagram_is_refused_and_stores_nothing(
    api, petra, body, headers, status
):
    before = stored(api)
    for path in ("/diagrams/drafts", "/diagrams/check"):
        response = petra.client.post(
            path, data=body, headers={**headers, "X-CSRFToken": petra.token}
        )
        assert response.status_code == status, path
        assert response.get_json()["message"]
    assert stored(api) == before and audit_rows(api, "owner.draft_saved") == []


def test_a_save_without_the_csrf_token_is_refused(api, petra):
    before = stored(api)
    response = petra.client.post("/diagrams/drafts", data=RENAMED, headers=XML)
    assert response.status_code == 400 and stored(api) == before


def test_importing_a_file_keeps_it_as_a_draft(api, petra):
    response = petra.post(
        "/diagrams/upload",
        {"file": (io.BytesIO(RENAMED), "fc.bpmn")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert re.fullmatch(r"/diagrams/versions/\d+", response.location)
    (uploaded,) = audit_rows(api, "owner.diagram_uploaded")
    assert uploaded.summary["process_id"] == "asb_first_contact"
    table = petra.post(
        "/diagrams/upload",
        {"file": (io.BytesIO(shipped("triage_priority.dmn").replace(b"Triage", b"T")), "t.dmn")},
        content_type="multipart/form-data",
    )
    assert table.location == "/diagrams/decisions/triage_priority"


@pytest.mark.parametrize(
    ("upload", "status", "message"),
    [
        (None, 400, "Choose a .bpmn or .dmn file"),
        ((b"not xml at all", "x.bpmn"), 400, "not a BPMN or DMN diagram"),
        ((b"<x>" + b" " * (5 * 1024 * 1024) + b"</x>", "big.bpmn"), 413, "5 MB or smaller"),
    ],
)
def test_an_import_refused_shows_the_form_again_with_the_reason(
    api, petra, upload, status, message
):
    before = stored(api)
    data = {"file": (io.BytesIO(upload[0]), upload[1])} if upload else {}
    response = petra.post("/diagrams/upload", data, content_type="multipart/form-data")
    response.request.environ["wsgi.input"].close()  # the test client spooled a big body to disk
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert "govuk-error-summary" in html and message in html
    assert "Import a diagram file" in html and stored(api) == before
