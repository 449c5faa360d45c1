"""The process owner's reading pages: the processes, a process's versions, one version's page."""

from __future__ import annotations

import re

import pytest

from tests.owner.conftest import audit_rows, shipped, version_of

FIRST_CONTACT = shipped("first_contact.bpmn")
RENAMED = FIRST_CONTACT.replace(b'name="Make first contact"', b'name="Call the reporter"')


def _row(html: str, marker: str) -> str:
    found = re.search(rf'<tr class="govuk-table__row" {marker}.*?</tr>', html, re.S)
    assert found, marker
    return found.group(0)


def test_the_list_shows_every_process_with_its_version_drafts_and_cases(api, petra):
    reference = api.open_case()["reference"]
    petra.save(RENAMED)
    html = petra.get("/diagrams").get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Process diagrams</h1>' in html
    case_row = _row(html, 'data-process="asb_case"')
    assert "Version 1" in case_row and ">1</td>" in case_row  # the case opened runs on it
    contact = _row(html, 'data-process="asb_first_contact"')
    assert "1 draft" in contact and ">0</td>" in contact
    assert "Triage priority" in html and "triage_priority.dmn" in html
    assert reference not in html  # process owners see versions and counts, never cases


def test_a_processs_history_says_who_saved_and_published_each_version_and_why(api, petra):
    draft = petra.save(RENAMED, based_on=version_of(api, "asb_first_contact").id).get_json()
    petra.post(f"/diagrams/versions/{draft['id']}/publish", {"reason": "Plain words for reporters"})
    html = petra.get("/diagrams/processes/asb_first_contact").get_data(as_text=True)
    newest = _row(html, 'data-version="2"')
    assert "In use" in newest and "petra" in newest and "Plain words for reporters" in newest
    assert "edited from version 1" in newest
    first = _row(html, 'data-version="1"')
    assert "Published earlier" in first and "Shipped with the product" in first


def test_a_versions_page_lists_what_it_changes_and_its_problems(api, petra):
    broken = RENAMED.replace(b'value="first_contact_overdue"', b'value="no_such_form"')
    draft = petra.save(broken).get_json()
    response = petra.get(f"/diagrams/versions/{draft['id']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Draft with problems" in html and "no_such_form" in html
    assert 'data-element-id="first_contact"' in html and "Call the reporter" in html
    assert 'data-element-id="first_contact_overdue"' in html
    data = re.search(
        r'<script type="application/json" id="owner-data" nonce="[^"]+">(.*?)'
        r"</script>",
        html,
        re.S,
    )
    assert data and '"changed"' in data.group(1) and "published_source_url" in data.group(1)
    (viewed,) = audit_rows(api, "owner.diagram_viewed")
    assert viewed.actor == "petra" and viewed.object_id == str(draft["id"])


def test_the_version_in_use_says_so(api, petra):
    live = version_of(api, "asb_first_contact", published=True)
    html = petra.get(f"/diagrams/versions/{live.id}").get_data(as_text=True)
    assert "This is the version in use." in html and "No problems found" in html
    assert "Publish this version" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/diagrams/processes/no_such_process",
        "/diagrams/versions/999999",
        "/diagrams/versions/99999999999",
        "/diagrams/versions/999999/source",
        "/diagrams/decisions/no_such_table",
    ],
)
def test_what_does_not_exist_is_404(petra, path):
    assert petra.get(path).status_code == 404


def test_a_manager_reads_but_may_not_edit(api, signed_in):
    maria = signed_in("maria")
    live = version_of(api, "asb_first_contact", published=True)
    for path in (
        "/diagrams",
        "/diagrams/processes/asb_first_contact",
        f"/diagrams/versions/{live.id}",
        f"/diagrams/versions/{live.id}/source",
        "/diagrams/decisions/triage_priority",
    ):
        assert maria.get(path).status_code == 200, path
    html = maria.get("/diagrams").get_data(as_text=True)
    assert "Import a diagram file" not in html and "/edit" not in html
    for path in (
        f"/diagrams/versions/{live.id}/edit",
        f"/diagrams/versions/{live.id}/publish",
        "/diagrams/upload",
        "/diagrams/decisions/triage_priority/edit",
    ):
        assert maria.get(path).status_code == 403, path
    assert maria.save(RENAMED).status_code == 403
    assert maria.check(RENAMED).status_code == 403


@pytest.mark.parametrize("who", ["olivia", "tara", "paul"])
def test_officers_team_leaders_and_partners_get_403(signed_in, who):
    client = signed_in(who)
    assert client.get("/diagrams").status_code == 403
    assert client.save(RENAMED).status_code == 403


def test_a_stranger_is_sent_to_sign_in(api):
    response = api.client().get("/diagrams/processes/asb_case")
    assert response.status_code == 302 and response.location.startswith("/sign-in")


def test_the_source_is_the_stored_file_byte_for_byte(api, petra):
    raw = b"\xef\xbb\xbf" + RENAMED.replace(b"\n", b"\r\n")
    draft = petra.save(raw).get_json()
    response = petra.get(f"/diagrams/versions/{draft['id']}/source")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.get_data() == raw
    assert 'filename="asb_first_contact-v2.bpmn"' in response.headers["Content-Disposition"]
    shipped_table = petra.get("/diagrams/decisions/triage_priority/source")
    assert shipped_table.get_data() == shipped("triage_priority.dmn")
    assert [e.object_id for e in audit_rows(api, "owner.diagram_exported")] == [
        str(draft["id"]),
        None,
    ]
