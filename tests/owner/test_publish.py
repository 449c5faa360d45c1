"""Publishing a draft: only a valid one, only with a reason, by a process owner, audited."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import DefinitionVersion
from tests.owner.conftest import audit_rows, shipped, version_of
from web.extensions import case_engine, unit

FIRST_CONTACT = shipped("first_contact.bpmn")
RENAMED = FIRST_CONTACT.replace(b'name="Make first contact"', b'name="Call the reporter"')
BROKEN_TIMER = FIRST_CONTACT.replace(
    b"first_contact_due</bpmn:timeDate>", b"due_after_working_days(received_at, 1</bpmn:timeDate>"
)
# A deadline later than the council's policy: valid code, but it breaks a promise.
SLOW = FIRST_CONTACT.replace(
    b"first_contact_due</bpmn:timeDate>", b"due_after_working_days(received_at, 10)</bpmn:timeDate>"
)


def _published(api, version_id: int) -> bool:
    with api.app.app_context(), unit() as session:
        return bool(session.get(DefinitionVersion, version_id).published)


def test_the_publish_page_shows_what_changes_and_asks_why(petra):
    draft = petra.save(RENAMED).get_json()
    html = petra.get(f"/diagrams/versions/{draft['id']}/publish").get_data(as_text=True)
    assert "Publish version 2" in html and "Call the reporter" in html
    assert 'name="reason"' in html and "Why are you publishing this version?" in html


def test_a_draft_is_published_with_the_reason_and_new_cases_start_on_it(api, petra):
    draft = petra.save(RENAMED).get_json()
    response = petra.post(
        f"/diagrams/versions/{draft['id']}/publish",
        {"reason": "  Reporters found 'first contact' unclear  "},
    )
    assert response.status_code == 302
    assert response.location == "/diagrams/processes/asb_first_contact"
    assert _published(api, draft["id"])
    with api.app.app_context(), unit() as session:
        live = case_engine().definitions.published(session, "asb_first_contact")
        assert live.id == draft["id"]
    event, caller = audit_rows(api, "owner.diagram_published")
    assert event.actor == "petra" and event.object_id == str(draft["id"])
    assert event.summary["reason"] == "Reporters found 'first contact' unclear"
    assert event.summary["version"] == 2
    # asb_case bundles first contact: it was bundled again so that new cases use the change.
    assert (caller.summary["process_id"], caller.summary["reason"]) == (
        "asb_case", "calls asb_first_contact version 2")
    page = petra.get(response.location).get_data(as_text=True)
    assert "is published: new cases start on it" in page
    assert f"is now version {caller.summary['version']}, which calls it" in page


def test_an_admin_may_publish_too(api, signed_in):
    adam = signed_in("adam")
    draft = adam.save(RENAMED).get_json()
    assert (
        adam.post(
            f"/diagrams/versions/{draft['id']}/publish", {"reason": "Agreed at the review"}
        ).status_code
        == 302
    )
    assert _published(api, draft["id"])


def test_without_a_reason_the_form_comes_back_and_nothing_is_published(api, petra):
    draft = petra.save(RENAMED).get_json()
    for reason, message in (
        ("", "Enter why you are doing this"),
        ("x" * 1001, "must be 1000 characters or fewer"),
        ("why\x00", "must not contain control characters"),
    ):
        response = petra.post(f"/diagrams/versions/{draft['id']}/publish", {"reason": reason})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "govuk-error-summary" in html and message in html
    assert not _published(api, draft["id"])
    assert audit_rows(api, "owner.diagram_published") == []


def test_a_draft_that_cannot_run_is_refused_with_its_problems(api, petra):
    draft = petra.save(BROKEN_TIMER).get_json()
    response = petra.post(f"/diagrams/versions/{draft['id']}/publish", {"reason": "Try it"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This version cannot be published" in html and "first_contact_deadline" in html
    assert "not valid Python" in html
    assert 'value="Try it"' in html or ">Try it</textarea>" in html  # what was typed is kept
    assert not _published(api, draft["id"])


def test_a_draft_that_breaks_a_promise_is_refused_with_the_reason(api, petra):
    draft = petra.save(SLOW).get_json()
    assert draft["problems"], "the policy check should flag a deadline longer than policy"
    response = petra.post(f"/diagrams/versions/{draft['id']}/publish", {"reason": "Slower"})
    assert response.status_code == 422
    assert "first_contact_deadline" in response.get_data(as_text=True)
    assert not _published(api, draft["id"])


def test_a_published_version_is_not_published_again(api, petra):
    live = version_of(api, "asb_first_contact", published=True)
    page = petra.get(f"/diagrams/versions/{live.id}/publish").get_data(as_text=True)
    assert "is already published" in page and 'name="reason"' not in page
    response = petra.post(f"/diagrams/versions/{live.id}/publish", {"reason": "Again"})
    assert response.status_code == 400 and "already published" in response.get_data(True)
    assert audit_rows(api, "owner.diagram_published") == []


def test_a_decision_table_draft_has_no_publish_page(api, petra):
    raw = shipped("triage_priority.dmn").replace(b"Triage priority", b"Triage")
    draft = petra.save(raw).get_json()
    assert petra.get(f"/diagrams/versions/{draft['id']}/publish").status_code == 404
    assert (
        petra.post(f"/diagrams/versions/{draft['id']}/publish", {"reason": "x"}).status_code == 404
    )


def test_a_manager_may_not_publish(api, petra, signed_in):
    draft = petra.save(RENAMED).get_json()
    maria = signed_in("maria")
    assert (
        maria.post(f"/diagrams/versions/{draft['id']}/publish", {"reason": "Me"}).status_code == 403
    )
    assert not _published(api, draft["id"])


def test_a_file_with_two_processes_publishes_both_and_audits_each(api, petra):
    raw = shipped("triage.bpmn") + b"\n"
    draft = petra.save(raw).get_json()
    assert draft["process_ids"] == ["asb_triage", "asb_risk_assessment"]
    petra.post(f"/diagrams/versions/{draft['id']}/publish", {"reason": "Both"})
    with api.app.app_context(), unit() as session:
        rows = session.scalars(
            select(DefinitionVersion).where(
                DefinitionVersion.process_id.in_(draft["process_ids"]),
                DefinitionVersion.published.is_(True),
                DefinitionVersion.created_by == "petra",
            )
        ).all()
        assert len(rows) == 2
    events = audit_rows(api, "owner.diagram_published")
    assert {e.summary["process_id"] for e in events} == {*draft["process_ids"], "asb_case"}
