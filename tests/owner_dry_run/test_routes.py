"""The dry run page: who may open it, CSRF, bad input, and what a run shows and leaves behind."""

from __future__ import annotations

import html
import re

import pytest
from aiosmtpd.controller import Controller

from tests.api.support import PEOPLE
from tests.owner_dry_run.conftest import counts, dry_run_audits, published_id
from tests.test_notify import MailBox, free_port

PAGE = "/diagrams/dry-run"
WHO = ("anon", *PEOPLE)
# Statuses in WHO order: anon, olivia, oscar, sam, tara, tom, maria, adam, petra, paul.
GET_STATUSES = (302, 403, 403, 403, 403, 403, 403, 200, 200, 403)
# A POST with nothing but the CSRF token: strangers have no session to check it against.
POST_STATUSES = (400, 403, 403, 403, 403, 403, 403, 400, 400, 403)
BROKEN_HANDLER = (
    '<spiffworkflow:parameters><spiffworkflow:parameter id="tone" type="str" '
    "value=\"'kind'\"/></spiffworkflow:parameters>"
)


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.mark.parametrize("who", WHO)
def test_only_process_owners_and_admins_may_dry_run(signed_in, who):
    client, csrf = signed_in(who)
    column = WHO.index(who)
    got = client.get(PAGE)
    assert got.status_code == GET_STATUSES[column]
    if who == "anon":
        assert got.headers["Location"].startswith("/sign-in")
    posted = client.post(PAGE, data={"csrf_token": csrf} if csrf else {})
    assert posted.status_code == POST_STATUSES[column]


def test_the_form_lists_drafts_and_published_versions(api, signed_in):
    client, _csrf = signed_in("petra")
    wanted = published_id(api, "asb_case")
    page = client.get(f"{PAGE}?version={wanted}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert re.search(rf'<option value="{wanted}" selected>Published: asb_case version 1', body)
    assert "Racist abuse with threats" in body and "Describe a case by hand" in body


def test_a_run_without_the_csrf_token_is_refused(api, signed_in):
    client, _csrf = signed_in("petra")
    before = counts(api)
    response = client.post(
        PAGE, data={"version": published_id(api, "asb_case"), "sample": "noise", "pace": "prompt"}
    )
    assert response.status_code == 400
    assert counts(api) == before and dry_run_audits(api) == []


def test_bad_input_shows_the_form_again_with_messages(api, signed_in):
    client, csrf = signed_in("adam")
    before = counts(api)
    response = client.post(
        PAGE,
        data={
            "csrf_token": csrf,
            "version": "999999",
            "sample": "nope",
            "pace": "slow",
            "received": "tomorrow",
            "answers": "{not json",
        },
    )
    assert response.status_code == 400
    page = text_of(response)
    for message in (
        "There is a problem",
        "Choose the diagram to try",
        "Choose a sample case, or describe one by hand",
        "Choose how fast people act",
        "Enter the day and time like",
        "Write answers as JSON",
    ):
        assert message in page
    assert counts(api) == before and dry_run_audits(api) == []


def test_a_case_described_by_hand_is_checked(api, signed_in):
    client, csrf = signed_in("petra")
    response = client.post(
        PAGE,
        data={
            "csrf_token": csrf,
            "version": published_id(api, "asb_case"),
            "sample": "hand",
            "category": "nuisance",
            "hate_strands": ["race"],
            "contact": ["email"],
            "unsafe": ["email"],
            "channel": "fax",
            "street": "abc",
            "pace": "prompt",
            "flags": ["is_famous"],
            "answers": '["a list"]',
        },
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "Choose how the report reached us from the list" in page
    assert "Choose where it happens from the list" in page
    assert "Choose vulnerability and risk flags from the list" in page
    assert "Hate is personal anti-social behaviour: choose Personal" in page
    assert "A channel the reporter wants cannot also be unsafe for them" in page
    assert "Answers must be an object of tasks" in page
    assert dry_run_audits(api) == []


def test_a_dry_run_of_the_shipped_case_shows_its_steps_and_touches_nothing(
    api, signed_in, monkeypatch
):
    box, port = MailBox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("ASB_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ASB_SMTP_PORT", str(port))
    monkeypatch.setenv("ASB_SMTP_SENDER", "asb@council.example.org")
    try:
        client, csrf = signed_in("petra")
        version = published_id(api, "asb_case")
        before = counts(api)
        response = client.post(
            PAGE,
            data={
                "csrf_token": csrf,
                "version": version,
                "sample": "hate_high_risk",
                "pace": "prompt",
            },
        )
    finally:
        controller.stop()
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    page = text_of(response)
    assert "The process under test ran to its end." in page
    assert "Step 1: The sample case ASB-2026-000001 was reported" in page
    assert "First contact due: 29 December 2026, 17:00" in page
    assert "Make first contact – for olivia, due 29 December 2026, 17:00" in page
    assert "Safeguarding referral to Children's safeguarding, about a child at risk" in page
    assert "E-mail to the reporter: acknowledgement" in page
    assert "Your case officer is Olivia Officer" in page
    assert "E-mail to the reporter: closure" in page
    # The same steps for the diagram, in a data block the page's script reads.
    body = response.get_data(as_text=True)
    nonce = re.search(r'<script type="application/json" id="dry-run-data" nonce="([^"]+)">', body)
    assert nonce and f"'nonce-{nonce.group(1)}'" in response.headers["Content-Security-Policy"]
    assert "js/owner_dry_run/dry_run.js" in body
    # Nothing real changed but the one audit entry, and nothing was sent.
    after = counts(api)
    assert after == {**before, "audit": before["audit"] + 1}
    (entry,) = dry_run_audits(api)
    assert entry["actor"] == "petra" and entry["object_id"] == str(version)
    assert entry["case_reference"] is None
    assert entry["summary"]["sample"] == "hate_high_risk"
    assert entry["summary"]["flags"] == ["child_at_risk", "threat_of_violence", "high_risk"]
    assert entry["summary"]["outcome"] == "completed"
    assert box.envelopes == []


def test_a_case_described_by_hand_runs(api, signed_in):
    client, csrf = signed_in("adam")
    response = client.post(
        PAGE,
        data={
            "csrf_token": csrf,
            "version": published_id(api, "asb_case"),
            "sample": "hand",
            "category": "personal",
            "hate_strands": ["religion"],
            "flags": ["vulnerable_adult"],
            "contact": ["sms"],
            "channel": "online",
            "street": "0",
            "pace": "prompt",
            "received": "2026-12-24 10:00",
        },
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "Text message to the reporter: acknowledgement" in page
    assert "Safeguarding referral to Adult safeguarding, about an adult at risk" in page
    assert dry_run_audits(api)[0]["summary"]["hate_strands"] == ["religion"]


def test_a_draft_with_a_broken_handler_shows_an_incident_not_an_error(api, signed_in):
    source = api.app.config["BPMN_DIR"] + "/assignment.bpmn"
    with open(source, encoding="utf-8") as handle:
        xml = handle.read()
    xml = xml.replace("<spiffworkflow:parameters/>", BROKEN_HANDLER, 2)
    uploaded = api.post(
        "/api/v1/diagrams", "petra", data=xml.encode(), headers={"Content-Type": "application/xml"}
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    draft = uploaded.get_json()["id"]
    client, csrf = signed_in("petra")
    before = counts(api)
    response = client.post(
        PAGE, data={"csrf_token": csrf, "version": draft, "sample": "noise", "pace": "prompt"}
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "The run stopped at a failed step." in page
    assert "Step 'Assign a case officer' stopped" in page
    assert "the diagram gives the operation a parameter it does not take ('tone')" in page
    assert counts(api) == {**before, "audit": before["audit"] + 1}
    assert dry_run_audits(api)[0]["summary"]["outcome"] == "incident"
