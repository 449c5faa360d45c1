"""The OpenAPI document: it matches the URL map, says API.md's enums, and survives fuzzing."""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.api.support import make_api

ROUTE_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def test_the_document_describes_exactly_the_routes_under_api(api):
    response = api.get("/api/openapi.json", None)
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    for rule in api.app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = ROUTE_PARAM.sub(r"{\1}", rule.rule)
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed


def test_the_document_carries_the_enumerations_of_api_md(api):
    schemas = api.get("/api/openapi.json", None).get_json()["components"]["schemas"]
    case = schemas["Case"]["allOf"][1]["properties"]
    assert case["stage"]["enum"] == ["intake", "triage", "contact", "support", "evidence",
                                     "legal_action", "case_review", "complaint", "closure"]
    assert schemas["CaseSummary"]["properties"]["status"]["enum"] == ["open", "closed"]
    task = schemas["Task"]["properties"]
    assert task["state"]["enum"] == ["open", "completed", "cancelled"]
    assert task["role"]["enum"] == ["officer", "team_leader", "process_owner", "manager",
                                    "admin", "partner", None]
    report = schemas["Report"]["properties"]
    assert report["channel"]["enum"] == ["phone", "online", "email", "face_to_face"]
    incident = schemas["Incident"]["properties"]
    assert incident["category"]["enum"] == ["personal", "nuisance", "environmental"]
    assert incident["hate_strands"]["items"]["enum"] == [
        "disability", "race", "religion", "sexual_orientation", "transgender"]
    security = api.get("/api/openapi.json", None).get_json()["components"]["securitySchemes"]
    assert set(security) == {"bearer", "cookie"}


def _fuzz(operation, headers, mode):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=12, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    run()


def test_no_generated_input_makes_the_server_fail(tmp_path):
    """Schemathesis, in-process against the WSGI app, with an officer's token: never a 5xx."""
    api = make_api(tmp_path)
    api.open_case(received_at="2025-01-06T10:00:00", incident={
        "occurred_at": "2025-01-05T22:00:00", "location": "14 Mill Lane, Chesterfield S40 1AB",
        "description": "Shouting", "category": "personal", "hate_strands": ["race"]})
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", api.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, api.headers("olivia"), mode)
