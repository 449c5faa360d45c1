"""Sandbox escapes in a diagram are refused on publishing (API and pages) and at run time.

tests/test_sandbox.py proves each escape is refused by the sandbox itself; these tests put
the classic ones into a real diagram and go through the product's publish paths and engine.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import DefinitionVersion, Incident, InstanceStatus
from tasks.wiring import build_engine
from tests.api.support import XMAS_EVE, Api, make_api
from tests.security.tooling_support import XML, Browser, probe
from web.extensions import case_engine, unit

# Expressions (they also fit a gateway condition): the classic ways out of eval/exec.
ESCAPES: dict[str, str] = {
    "subclasses": "().__class__.__bases__[0].__subclasses__()",
    "dunder_import": "__import__('os')",
    "getattr_dunder": "getattr(1, '__class__')",
    "format_attribute": "'{0.__class__}'.format(1)",
    "lambda_globals": "(lambda: 0).__globals__",
    "generator_frame": "(t for t in [1]).gi_frame.f_globals",
    "open_file": "open('/etc/passwd').read()",
    "huge_power": "2 ** 100000000",
}
STATEMENTS = {"import_os": "import os", "from_import": "from os import system"}


def _api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path)


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return _api(tmp_path)


def published_probe(api: Api) -> DefinitionVersion | None:
    with api.app.app_context(), unit() as session:
        return case_engine().definitions.published(session, "sec_probe", missing_ok=True)


def upload(api: Api, raw: bytes, who: str = "petra") -> int:
    response = api.post("/api/v1/diagrams", who, data=raw, headers=XML)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


CASES = {f"script-{k}": (probe(script=f"x = {v}"), "run_script") for k, v in ESCAPES.items()}
CASES |= {f"condition-{k}": (probe(condition=v), "to_end") for k, v in ESCAPES.items()}
CASES |= {f"script-{k}": (probe(script=v), "run_script") for k, v in STATEMENTS.items()}


@pytest.mark.parametrize(("raw", "element"), CASES.values(), ids=CASES.keys())
def test_publishing_an_escape_through_the_api_is_a_validation_error(api, raw, element):
    draft = upload(api, raw)
    response = api.post(f"/api/v1/diagrams/{draft}/publish", "petra")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert "cannot be used" in error["details"][element]
    assert published_probe(api) is None


@pytest.mark.parametrize("name", ["subclasses", "format_attribute", "generator_frame"])
def test_publishing_an_escape_on_the_owner_pages_is_refused_with_the_reason(api, name):
    petra = Browser(api, "petra")
    saved = petra.post_xml("/diagrams/drafts", probe(script=f"x = {ESCAPES[name]}"))
    assert saved.status_code == 201
    assert saved.get_json()["executable"] is False
    version = saved.get_json()["id"]
    page = petra.post(f"/diagrams/versions/{version}/publish", {"reason": "Try the escape"})
    assert page.status_code == 422
    text = html.unescape(page.get_data(as_text=True))
    assert "This version cannot be published" in text and "cannot be used" in text
    assert published_probe(api) is None


@pytest.mark.parametrize("who", ["olivia", "tara", "maria", "paul"])
def test_only_process_owners_and_admins_may_upload_or_publish(api, who):
    draft = upload(api, probe())
    assert api.post("/api/v1/diagrams", who, data=probe(name="Other"),
                    headers=XML).status_code == 403
    assert api.post(f"/api/v1/diagrams/{draft}/publish", who).status_code == 403
    browser = Browser(api, who)
    assert browser.post_xml("/diagrams/drafts", probe(name="Other")).status_code == 403
    page = browser.post(f"/diagrams/versions/{draft}/publish", {"reason": "Let me publish"})
    assert page.status_code == 403
    assert published_probe(api) is None


@pytest.mark.parametrize("who", ["petra", "adam"])
def test_process_owners_and_admins_publish_a_safe_diagram(api, who):
    draft = upload(api, probe(), who)
    assert api.post(f"/api/v1/diagrams/{draft}/publish", who).status_code == 200
    published = published_probe(api)
    assert published is not None and published.id == draft


def _start(api: Api) -> tuple[str, Incident | None]:
    engine = build_engine()
    with api.app.app_context(), unit() as session:
        row = engine.start(session, "sec_probe", "SEC-1")
        incident = session.scalar(select(Incident).where(Incident.instance_id == row.id))
        if incident is not None:
            session.expunge(incident)
        return row.status, incident


@pytest.mark.parametrize("name", ["subclasses", "getattr_dunder", "open_file", "dunder_import"])
def test_a_stored_definition_tampered_past_the_checks_is_refused_at_run_time(api, name):
    draft = upload(api, probe(script="note = 'MARKER'\nran = True"))
    assert api.post(f"/api/v1/diagrams/{draft}/publish", "petra").status_code == 200
    escape = json.dumps(f"x = {ESCAPES[name]}")[1:-1]
    with api.app.app_context(), unit() as session:
        row = session.get(DefinitionVersion, draft)
        assert row.spec_json.count("note = 'MARKER'") == 1
        row.spec_json = row.spec_json.replace("note = 'MARKER'", escape)
    status, incident = _start(api)
    assert status == InstanceStatus.INCIDENT
    assert incident is not None and incident.message.startswith("UnsafeCode:Line 1: ")


@pytest.mark.parametrize("bomb", ["n = 2 ** big", "s = 'ab' * big", "r = list(range(big))"])
def test_a_cpu_or_memory_bomb_fed_by_case_data_stops_at_run_time(api, bomb):
    draft = upload(api, probe(script=f"big = int('1' + '0' * 9)\n{bomb}"))
    assert api.post(f"/api/v1/diagrams/{draft}/publish", "petra").status_code == 200
    status, incident = _start(api)
    assert status == InstanceStatus.INCIDENT
    assert incident is not None and incident.message.startswith("UnsafeCode:Line 2: ")
