"""Where the case stands: the process JSON for the diagram, its text equivalent, vendor files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import DefinitionVersion, ProcessInstance
from tests.officer.conftest import audit_rows, token
from tests.officer.support import ASSESSMENT, CONTACT, complete_by_api
from web.extensions import unit

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "web" / "static" / "vendor"
PLAN = {"actions": ["Send diary sheets"], "update_frequency": "weekly",
        "agreed_with_reporter": True}
VIEW_KEYS = {"key", "label", "process_id", "name", "status", "called_from", "diagram", "active",
             "watching", "done", "flows"}
# What the report, the assessment and the contact put on the case: none of it may leave.
PERSONAL = ("Rita", "07700", "rita@example.org", "Mill Lane", "S40 1AB",
            "Racist abuse", "Talked through the diary sheets", "olivia", "Olivia",
            "situational", "Send diary sheets")


@pytest.fixture
def ref(api):
    return api.open_case()["reference"]


def process_of(client, ref, status=200):
    response = client.get(f"/cases/{ref}/process")
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response


def views_by_process(data):
    return {v["process_id"]: v for v in data["views"]}


def current_view(data):
    (view,) = [v for v in data["views"] if v["key"] == data["current"]]
    return view


def test_the_json_follows_the_case_from_assess_risk_to_first_contact(api, signed_in, ref):
    olivia = signed_in("olivia")
    response = process_of(olivia, ref)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert set(data) == {"reference", "current", "views", "diagrams"}
    assert data["reference"] == ref
    assert all(set(v) == VIEW_KEYS for v in data["views"])

    stage = current_view(data)
    assert (stage["process_id"], stage["active"], stage["status"]) == (
        "asb_risk_assessment", ["assess_risk"], "now")
    assert stage["called_from"] == "call_risk_assessment"
    assert stage["done"] == ["risk_assessment_started"]
    assert stage["flows"] == ["Flow_risk_assessment_started_assess_risk"]
    assert 'id="asb_risk_assessment"' in data["diagrams"][stage["diagram"]]
    whole = views_by_process(data)["asb_case"]
    assert whole["label"] == "Whole case" and data["views"][0] is not stage
    assert whole["active"] == ["call_risk_assessment"]
    assert {"report_received", "call_intake", "call_triage", "call_assignment"} <= set(
        whole["done"])
    assert whole["flows"] and all(f in data["diagrams"][whole["diagram"]] for f in whole["flows"])
    assert views_by_process(data)["asb_triage"]["status"] == "done"

    complete_by_api(api, api.open_task(ref, "assess_risk")["id"], ASSESSMENT)
    data = process_of(olivia, ref).get_json()
    stage = current_view(data)
    assert (stage["process_id"], stage["active"], stage["watching"]) == (
        "asb_first_contact", ["first_contact"], ["first_contact_deadline"])
    assert 'id="asb_first_contact"' in data["diagrams"][stage["diagram"]]
    views = views_by_process(data)
    assert views["asb_risk_assessment"]["status"] == "done"
    assert {"assess_risk", "record_assessment"} <= set(views["asb_risk_assessment"]["done"])
    assert views["asb_case"]["active"] == ["call_first_contact"]
    assert "call_risk_assessment" in views["asb_case"]["done"]


def test_in_casework_the_whole_case_shows_the_embedded_subprocesses(api, signed_in, ref):
    for name, data in (("assess_risk", ASSESSMENT), ("first_contact", CONTACT),
                       ("agree_action_plan", PLAN)):
        complete_by_api(api, api.open_task(ref, name)["id"], data)
    data = process_of(signed_in("olivia"), ref).get_json()
    whole = current_view(data)
    assert whole["process_id"] == "asb_case" and whole["status"] == "now"
    assert {"casework", "work_case", "keep_updated", "wait_for_update"} <= set(whole["active"])
    assert {"next_update_due", "updates_stopped_by_signal"} <= set(whole["watching"])
    assert {"call_first_contact", "call_action_plan"} <= set(whole["done"])
    # The first contact's deadline was cancelled by the contact: nothing watches it now.
    first_contact = views_by_process(data)["asb_first_contact"]
    assert first_contact["status"] == "done" and first_contact["watching"] == []


@pytest.mark.parametrize(("who", "status"), [
    ("oscar", 200), ("tara", 200), ("maria", 200), ("sam", 404), ("tom", 404),
    ("paul", 403), ("adam", 403), ("petra", 403),
])
def test_the_json_has_the_case_files_access_rules(api, signed_in, ref, who, status):
    # A caller who may not see the case gets 404, a role with no case pages 403, as for
    # GET /cases/<reference> itself; neither is audited.
    process_of(signed_in(who), ref, status)
    assert len(audit_rows(api, "case.process_viewed")) == (status == 200)


def test_strangers_are_sent_to_sign_in_and_unknown_cases_are_404(api, signed_in, ref):
    response = api.app.test_client().get(f"/cases/{ref}/process")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    process_of(signed_in("olivia"), "ASB-2026-999999", 404)
    process_of(signed_in("olivia"), "not-a-reference", 404)


def test_every_view_is_audited_and_break_glass_access_says_so(api, signed_in, ref):
    process_of(signed_in("olivia"), ref)
    (row,) = audit_rows(api, "case.process_viewed")
    assert (row.actor, row.case_reference, row.object_type) == ("olivia", ref, "case")
    assert row.summary == {"via": "web", "break_glass": False}
    sam = signed_in("sam")
    response = sam.post(f"/cases/{ref}/break-glass", data={
        "reason": "Reporter rang in distress, case officer away", "csrf_token": token(sam)})
    assert response.status_code == 302
    process_of(sam, ref)
    assert audit_rows(api, "case.process_viewed")[-1].summary == {"via": "web",
                                                                 "break_glass": True}


def test_the_json_carries_no_task_data_and_no_personal_data(api, signed_in, ref):
    complete_by_api(api, api.open_task(ref, "assess_risk")["id"], ASSESSMENT)
    complete_by_api(api, api.open_task(ref, "first_contact")["id"], CONTACT)
    data = process_of(signed_in("olivia"), ref).get_json()
    text = json.dumps(data)
    for value in PERSONAL:
        assert value not in text, value
    # Only the diagrams' own XML, as stored with the definition the case runs.
    for key, xml in data["diagrams"].items():
        assert key.endswith(".bpmn") and xml.lstrip().startswith("<?xml")
    states = {k for v in data["views"] for k in ("active", "watching", "done", "flows")
              for k in v[k]}
    assert all(re.fullmatch(r"[A-Za-z_][\w.-]*", s) for s in states)


def test_the_case_file_says_where_the_case_stands_in_words(api, signed_in, ref):
    complete_by_api(api, api.open_task(ref, "assess_risk")["id"], ASSESSMENT)
    html = signed_in("olivia").get(f"/cases/{ref}").get_data(as_text=True)
    steps = html[html.index('id="process-steps"'):html.index("Open tasks")]
    assert "ASB case</strong>: running, started 24 Dec 2026, 10:00." in steps
    assert re.search(r'First contact – Now: <a class="govuk-link" href="/tasks/[0-9a-f-]{36}">'
                     r"Make first contact</a> \(due 29 Dec 2026, 17:00\)", steps)
    assert "First contact – Watching: First-contact deadline passed (at 29 Dec 2026, 17:00)" \
        in steps
    assert 'data-process-url="/cases/' in html and " style=" not in html


def test_bpmn_js_is_loaded_on_the_case_file_only_with_the_pages_nonce(api, signed_in, ref):
    olivia = signed_in("olivia")
    response = olivia.get(f"/cases/{ref}")
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
    for src in ("/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js",
                "/static/js/case_diagram.js"):
        (tag,) = [t for t in re.findall(r"<script\b[^>]*>", html) if src in t]
        assert f'nonce="{nonce}"' in tag and " defer" in tag
    assert html.index("bpmn-navigated-viewer") < html.index("case_diagram.js")
    for href in ("vendor/bpmn-js/assets/diagram-js.css", "vendor/bpmn-js/assets/bpmn-js.css",
                 "css/case_diagram.css"):
        assert f'href="/static/{href}"' in html
    for path in ("/cases", "/inbox", "/reports/new"):
        assert "bpmn-js" not in olivia.get(path).get_data(as_text=True), path


def _pins() -> dict[str, str]:
    script = (ROOT / "scripts" / "vendor_assets.sh").read_text()
    found = dict(re.findall(r"^(\w*VERSION)=(\S+)", script, re.MULTILINE))
    return {"govuk-frontend": found["VERSION"], "bpmn-js": found["BPMN_JS_VERSION"],
            "dmn-js": found["DMN_JS_VERSION"]}


def test_the_vendor_script_pins_exact_versions_matching_the_copied_files():
    for name, version in _pins().items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), (name, version)
        assert (VENDOR / name / "VERSION").read_text().strip() == version, name
        readme = (VENDOR / name / "README.md").read_text()
        assert f"{name} {version}" in readme and "licence" in readme, name
    for name in ("bpmn-js", "dmn-js"):
        assert "bpmn.io watermark" in (VENDOR / name / "README.md").read_text()
        assert "watermark" in (VENDOR / name / "LICENSE").read_text()
        # No node_modules or sources: the built files only.
        assert not list((VENDOR / name).rglob("*.map"))
        assert not list((VENDOR / name).rglob("*.development.js"))


@pytest.mark.parametrize(("path", "mimetypes"), [
    ("bpmn-js/bpmn-navigated-viewer.production.min.js",
     ("text/javascript", "application/javascript")),
    ("bpmn-js/bpmn-modeler.production.min.js", ("text/javascript", "application/javascript")),
    ("bpmn-js/assets/diagram-js.css", ("text/css",)),
    ("bpmn-js/assets/bpmn-js.css", ("text/css",)),
    ("bpmn-js/assets/bpmn-font/css/bpmn.css", ("text/css",)),
    ("bpmn-js/assets/bpmn-font/font/bpmn.woff2", ("font/woff2", "application/font-woff2")),
    ("dmn-js/dmn-modeler.production.min.js", ("text/javascript", "application/javascript")),
    ("dmn-js/assets/dmn-js-drd.css", ("text/css",)),
    ("dmn-js/assets/dmn-js-decision-table.css", ("text/css",)),
    ("dmn-js/assets/dmn-font/css/dmn.css", ("text/css",)),
])
def test_the_vendor_files_are_served_with_their_content_type(api, path, mimetypes):
    version = _pins()[path.split("/")[0]]
    with api.app.test_client().get(f"/static/vendor/{path}") as response:
        assert response.status_code == 200
        assert response.mimetype in mimetypes
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        body = response.get_data()
    assert b"sourceMappingURL" not in body
    if path.endswith(".js"):
        assert body.startswith(b"/*! ") and f" v{version} ".encode() in body[:200]


def test_a_stage_missing_from_the_cases_version_is_drawn_from_its_own_version(
        api, signed_in, ref):
    # An uploaded asb_case stores only its own file; the stages it calls come from theirs.
    with api.app.app_context(), unit() as session:
        instance = session.scalars(select(ProcessInstance).where(
            ProcessInstance.business_key == ref, ProcessInstance.process_id == "asb_case")).one()
        version = session.get(DefinitionVersion, instance.definition_id)
        version.sources = {"asb_case.bpmn": version.sources["asb_case.bpmn"]}
        own = session.scalars(select(DefinitionVersion.id).where(
            DefinitionVersion.process_id == "asb_risk_assessment")).one()
    data = process_of(signed_in("olivia"), ref).get_json()
    whole, stage = views_by_process(data)["asb_case"], current_view(data)
    assert whole["diagram"] == f"{instance.definition_id}/asb_case.bpmn"
    assert stage["diagram"] == f"{own}/triage.bpmn"
    assert set(data["diagrams"]) == {v["diagram"] for v in data["views"]}
