"""The privacy pages: a manager's subject access export and the retention review."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.records import Person
from engine import clock
from tasks.files import LocalFileStore
from tests.api.support import Api, make_api
from tests.lifecycle_support import Lifecycle
from tests.officer.support import browser
from tests.privacy.support import PEOPLE_STRINGS, closed_case, where_found
from web.extensions import unit

LATER = datetime(2034, 1, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))


@pytest.fixture
def ref(api: Api, tmp_path: Path) -> str:
    with api.app.app_context(), unit() as session:
        _life, reference = closed_case(session, LocalFileStore(tmp_path / "files"),
                                       Lifecycle(session))
    return reference


def _audit(api: Api, action: str) -> list[AuditEvent]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        session.expunge_all()
        return rows


def test_a_manager_finds_a_reporter_and_reads_their_redacted_export(api, ref):
    maria = browser(api, "maria")
    page = maria.post("/privacy/subject-access", {"query": "Rita Reporter"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Rita Reporter" in text and f"{ref} (reporter)" in text
    with api.app.app_context(), unit() as session:
        pid = session.scalar(select(Person.id).where(Person.name == "Rita Reporter"))
    shown = maria.post("/privacy/subject-access/export", {"person": str(pid), "format": "html"})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "Loud music and shouting every night" in html and "[redacted: witness]" in html
    assert "Lowther" not in html and "Wendy" not in html
    download = maria.post("/privacy/subject-access/export", {"person": str(pid),
                                                             "format": "json"})
    assert download.headers["Content-Disposition"] == "attachment; filename=subject-access.json"
    assert download.headers["Cache-Control"] == "no-store"
    assert json.loads(download.get_data())["cases"][0]["reference"] == ref
    (search,) = _audit(api, "privacy.subject_access_search")
    exports = _audit(api, "privacy.subject_access_export")
    assert search.summary["found"] == 1 and len(exports) == 2
    assert all(e.summary["people"] == [pid] and e.actor == "maria" for e in exports)
    assert "Rita" not in json.dumps([search.summary] + [e.summary for e in exports])


def test_bad_searches_are_shown_again_and_other_roles_are_refused(api, ref):
    maria = browser(api, "maria")
    refused = maria.post("/privacy/subject-access", {"query": "ab"})
    assert refused.status_code == 400 and "at least 3 characters" in refused.get_data(True)
    assert maria.post("/privacy/subject-access/export", {}).status_code == 400
    assert maria.post("/privacy/subject-access/export",
                      {"person": "1", "format": "pdf"}).status_code == 400
    olivia = browser(api, "olivia")
    assert olivia.get("/privacy/subject-access").status_code == 403
    assert olivia.post("/privacy/subject-access", {"query": "Rita"}).status_code == 403
    assert browser(api, "adam").get("/privacy/subject-access").status_code == 200


def test_the_review_list_holds_and_anonymises_a_case(api, ref):
    clock.set_now(LATER)
    maria = browser(api, "maria")
    listed = maria.get("/privacy/retention").get_data(as_text=True)
    assert ref in listed and "due for anonymising" in listed
    missing = maria.post("/privacy/retention/hold", {"reference": ref, "reason": " "})
    assert missing.status_code == 400 and "Give the reason" in missing.get_data(True)
    assert maria.post("/privacy/retention/hold", {"reference": ref,
                                                  "reason": "Claim 123"}).status_code == 302
    assert "On hold since" in maria.get("/privacy/retention").get_data(as_text=True)
    held = maria.post("/privacy/retention/dispose", {"reference": ref, "confirm": "yes"})
    assert held.status_code == 400 and "on legal hold" in held.get_data(True)
    assert maria.post("/privacy/retention/release", {"reference": ref,
                                                     "reason": "Settled"}).status_code == 302
    unconfirmed = maria.post("/privacy/retention/dispose", {"reference": ref})
    assert unconfirmed.status_code == 400 and "Confirm" in unconfirmed.get_data(True)
    nowhere = maria.post("/privacy/retention/dispose", {"reference": "ASB-2000-000001",
                                                        "confirm": "yes"})
    assert nowhere.status_code == 400 and "There is no case" in nowhere.get_data(True)
    with api.app.app_context(), unit() as session:
        assert where_found(session, PEOPLE_STRINGS)
    done = maria.post("/privacy/retention/dispose", {"reference": ref, "confirm": "yes"})
    assert done.status_code == 302
    with api.app.app_context(), unit() as session:
        assert where_found(session, PEOPLE_STRINGS) == []
    after = maria.get("/privacy/retention").get_data(as_text=True)
    assert f"Case {ref} is anonymised" in after and 'id="retention-none"' in after
    assert [e.case_reference for e in _audit(api, "retention.disposed")] == [ref]
    assert browser(api, "tara").post("/privacy/retention/dispose",
                                     {"reference": ref, "confirm": "yes"}).status_code == 403
