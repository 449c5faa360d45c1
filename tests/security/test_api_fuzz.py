"""Schemathesis over the API's OpenAPI document: no 5xx, every answer as documented.

The app runs in-process (WSGI, no network) on its own database, signed in with a real API
token. Each operation gets a bounded, derandomised run of generated requests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cases.checks import FLAGS, check_report
from cases.figures import Filters, FiltersInvalid, read_filters
from cases.records import CaseDataInvalid
from engine import clock
from engine.forms import validate
from tests.api.support import XMAS_EVE, Api, make_api
from web.api.openapi import document
from web.manager.instance_list import FIELDS, parse_filters

LABELS = sorted(result.ok().label for result in
                schemathesis.openapi.from_dict(document()).get_all_operations())
# The answer's shape is checked, not whether the server liked the data: business rules (a
# reporter needs a way to be contacted, a diagram must be BPMN) are not all in the schema.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Api, schemathesis.BaseSchema]:
    clock.set_now(XMAS_EVE)
    api = make_api(Path(tmp_path_factory.mktemp("fuzz")))
    api.open_case()  # so that some generated references and lists meet real rows
    return api, schemathesis.openapi.from_wsgi("/api/openapi.json", api.app)


def test_every_api_route_is_in_the_document_the_fuzzer_reads(fuzzed):
    api, _ = fuzzed
    served = {(m, r.rule) for r in api.app.url_map.iter_rules() if r.rule.startswith("/api/")
              for m in (r.methods or set()) - {"HEAD", "OPTIONS"}}
    assert len(LABELS) == len(served) >= 9


# Signed-in callers with generated valid data, and one with invalid data (everywhere but the
# document itself, which takes no input to get wrong).
RUNS = [(who, GenerationMode.POSITIVE, label) for who in ("maria", "petra") for label in LABELS]
RUNS += [("olivia", GenerationMode.NEGATIVE, label) for label in LABELS
         if label != "GET /api/openapi.json"]


@pytest.mark.parametrize(("who", "mode", "label"), RUNS,
                         ids=[f"{w}-{m.value}-{label}" for w, m, label in RUNS])
def test_no_operation_answers_5xx_or_breaks_its_schema(fuzzed, who, mode, label):
    api, schema = fuzzed
    operation = schema.find_operation_by_label(label)
    assert operation is not None

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        clock.set_now(XMAS_EVE)
        case.call_and_validate(headers=api.headers(who), checks=CHECKS)

    run()


# -- the form parsers, fuzzed directly: each returns, or refuses with its documented error --

# Characters such as '²' pass str.isdigit() but not int(): the parsers use isdecimal().
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", " ", "2026-12-24", "2026-13-01", "2026-12", "24/12/2026", "ASB-2026-000001", "-1",
     "0", "1", "99999999999999999999", "1e309", "NaN", "\x00", "é", "../../etc/passwd",
     "<script>", "'; DROP TABLE cases; --", "open", "running", "2026-12-24T10:00:00Z"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)
REPORT_KEYS = ("received_at", "channel", "reporter", "incident", "vulnerability", "people")
PERSON_KEYS = ("name", "phone", "email", "address", "contact_preferences", "date_of_birth")
INCIDENT_KEYS = ("occurred_at", "location", "description", "category", "hate_strands")
FORMS = {path.stem: json.loads(path.read_text()) for path in sorted(
    (Path(__file__).resolve().parents[2] / "bpmn" / "forms").glob("*.json"))}
PARSE = settings(max_examples=200, deadline=None, database=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))


def _shaped(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(keys) | TEXT, JSON, max_size=len(keys) + 1)


REPORTS = JSON | st.fixed_dictionaries({}, optional={
    "received_at": JSON, "channel": st.sampled_from(["phone", "online", "email", "x"]) | JSON,
    "reporter": _shaped(PERSON_KEYS) | JSON, "incident": _shaped(INCIDENT_KEYS) | JSON,
    "vulnerability": _shaped(FLAGS) | JSON,
    "people": st.lists(st.fixed_dictionaries({"role": TEXT | JSON, "person": JSON}), max_size=3)
              | JSON})


@PARSE
@given(report=REPORTS)
def test_the_report_form_checks_return_or_refuse_with_field_errors(report):
    errors: dict[str, str] = {}
    try:
        cleaned = check_report(report, XMAS_EVE)
    except CaseDataInvalid as refused:
        errors = refused.errors
    if errors:
        assert all(isinstance(m, str) for m in errors.values())
    else:
        assert set(cleaned) >= {"channel", "reporter", "incident"}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_the_task_form_validation_gives_messages_never_an_exception(form):
    fields = tuple(form.get("properties", {})) or ("x",)

    @settings(PARSE, max_examples=40)
    @given(data=_shaped(fields) | JSON)
    def run(data: Any) -> None:
        errors = validate(form, data)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items())

    run()


@PARSE
@given(args=st.dictionaries(st.sampled_from(("from", "to", "area", "team")), TEXT))
def test_the_dashboard_filters_read_or_refuse_with_field_errors(args):
    try:
        found = read_filters(args, XMAS_EVE, areas=["St Helen's"], teams=["North"])
    except FiltersInvalid as refused:
        found = refused
    assert isinstance(found, FiltersInvalid | Filters)


@PARSE
@given(args=st.dictionaries(st.sampled_from((*FIELDS, "after", "before")), TEXT))
def test_the_instance_list_filters_collect_errors_never_raise(args):
    found = parse_filters(args)
    assert all(isinstance(message, str) for message in found.errors.values())
