"""Dry runs of diagrams: the real engine on sample cases, in a throwaway database.

Each run goes through ``tasks.dry_run.dry_run``, i.e. a child process, as the page runs it;
the "real" database is an app's SQLite file with the shipped diagrams and the demo people
of ``tests.api.support`` (olivia is the North team's officer for St Helen's, Mill Lane).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.audit import AuditEvent
from cases.outbox import OutboxMessage
from cases.records import Case
from cases.referrals import Referral
from engine import clock
from engine.forms import validate
from engine.models import DefinitionVersion, HumanTask, Incident, ProcessInstance
from tasks import dry_run as dry_run_module
from tasks.dry_run import DryRunRequest, dry_run
from tasks.dry_run_samples import DEMO_SAMPLES, AnswerContext, Sample, answers_for
from tests.api.support import XMAS_EVE, make_api

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
# Reported on Christmas Eve (a Thursday): one working day later, past Christmas Day and the
# Boxing Day holiday on Monday 28th, is Tuesday 29 December at close of business.
ONE_WORKING_DAY = "2026-12-29T17:00:00+00:00"
FIVE_WORKING_DAYS = "2027-01-05T17:00:00+00:00"  # 29, 30, 31 Dec, 4 Jan (1 Jan), 5 Jan
TABLES = {
    "cases": Case,
    "tasks": HumanTask,
    "instances": ProcessInstance,
    "outbox": OutboxMessage,
    "audit": AuditEvent,
    "referrals": Referral,
    "incidents": Incident,
    "definitions": DefinitionVersion,
}


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The "real" database: an app's, with the shipped diagrams and the demo people."""
    api = make_api(tmp_path_factory.mktemp("real"))
    yield api.app.extensions["asb"]["sessions"]
    api.app.extensions["asb"]["db"].dispose()


def run(
    factory: Any, source: str, process_ids: list[str], sample: Sample, **options: Any
) -> dict[str, Any]:
    session: Session = factory()
    try:
        return dry_run(
            session, DryRunRequest(source, process_ids, sample, **options), BPMN, XMAS_EVE
        )
    finally:
        session.rollback()
        session.close()


def counts(factory: Any) -> dict[str, int]:
    with factory() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in TABLES.items()
        }


def shipped(name: str) -> str:
    return (BPMN / name).read_text(encoding="utf-8")


def opened(trace: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [t for s in trace["steps"] for t in s["opened"] if t["name"] == name]
    return found


def every(trace: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [item for s in trace["steps"] for item in s[key]]


@pytest.fixture(scope="module")
def hate_trace(real: Any) -> dict[str, Any]:
    return run(real, shipped("asb_case.bpmn"), ["asb_case"], DEMO_SAMPLES["hate_high_risk"])


def test_a_high_risk_hate_case_gets_one_working_day_for_first_contact(hate_trace):
    assert hate_trace["outcome"] == "completed", hate_trace["summary"]
    first = hate_trace["steps"][0]
    assert first["case"]["priority"] == 1 and first["case"]["hate"] is True
    assert first["case"]["first_contact_due_at"] == ONE_WORKING_DAY
    contact = opened(hate_trace, "first_contact")
    assert (contact["due"], contact["role"], contact["assignee"]) == (
        ONE_WORKING_DAY,
        "officer",
        "olivia",
    )
    watched = [t for t in every(hate_trace, "timers") if t["element"] == "first_contact_deadline"]
    assert watched and {t["due"] for t in watched} == {ONE_WORKING_DAY}


def test_the_safeguarding_flag_leads_to_a_safeguarding_referral(hate_trace):
    task = opened(hate_trace, "make_safeguarding_referral")
    assert task["due"] == ONE_WORKING_DAY
    (referral,) = every(hate_trace, "referrals")
    assert (referral["kind"], referral["agency"], referral["at_risk"]) == (
        "safeguarding",
        "children_safeguarding",
        "child",
    )
    step = next(s for s in hate_trace["steps"] if s["referrals"])
    assert step["task"]["name"] == "make_safeguarding_referral"
    assert "make_safeguarding_referral" in step["ran"]["asb_safeguarding"]


def test_the_reporter_is_told_their_officer_and_told_at_closure(hate_trace):
    letters = every(hate_trace, "letters")
    assert [m["template"] for m in letters] == ["acknowledgement", "closure"]
    acknowledgement = letters[0]
    assert acknowledgement["channel"] == "email" and acknowledgement["recipient"] == "reporter"
    assert "Your case officer is Olivia Officer" in acknowledgement["text"]
    assert all("to_address" not in m for m in letters)
    assert hate_trace["steps"][-1]["case"]["status"] == "closed"


def test_each_step_names_the_elements_to_mark_and_their_diagrams(hate_trace):
    files = hate_trace["process_files"]
    assert files["asb_case"] == "draft.bpmn"
    assert files["asb_first_contact"] == "first_contact.bpmn"
    assert set(files.values()) == set(hate_trace["diagrams"])
    first = hate_trace["steps"][0]
    assert first["current"]["asb_risk_assessment"] == ["assess_risk"]
    assert "call_intake" in first["ran"]["asb_case"] and first["flows"]["asb_case"]
    assert first["focus"] == "asb_risk_assessment"
    numbers = [s["number"] for s in hate_trace["steps"]]
    assert numbers == list(range(1, len(numbers) + 1))


def test_without_flags_priority_two_gets_five_working_days_and_no_referral(real):
    trace = run(real, shipped("asb_case.bpmn"), ["asb_case"], DEMO_SAMPLES["noise"])
    assert trace["outcome"] == "completed"
    assert trace["steps"][0]["case"]["priority"] == 2
    assert opened(trace, "first_contact")["due"] == FIVE_WORKING_DAYS
    assert every(trace, "referrals") == []
    assert not [t for t in every(trace, "opened") if t["name"] == "make_safeguarding_referral"]


def test_late_officers_show_the_escalation_to_the_team_leader(real):
    trace = run(
        real, shipped("asb_case.bpmn"), ["asb_case"], DEMO_SAMPLES["hate_high_risk"], pace="late"
    )
    assert trace["outcome"] == "completed", trace["summary"]
    overdue = opened(trace, "first_contact_overdue")
    assert (overdue["role"], overdue["assignee"]) == ("team_leader", "tara")
    breached = [
        s["case_changes"]["first_contact_breached_at"]
        for s in trace["steps"]
        if "first_contact_breached_at" in s["case_changes"]
    ]
    assert breached and breached[0] > ONE_WORKING_DAY
    assert any(s["kind"] == "time" and "fired" in s["title"] for s in trace["steps"])


def test_the_owners_answers_are_used(real):
    answers = {"assess_risk": {"harm": "high", "community_impact": "high", "raise_priority": True}}
    trace = run(
        real, shipped("asb_case.bpmn"), ["asb_case"], DEMO_SAMPLES["noise"], answers=answers
    )
    step = next(s for s in trace["steps"] if s.get("task", {}).get("name") == "assess_risk")
    assert step["answers"] == answers["assess_risk"]
    assert step["case_changes"]["priority"] == 1
    assert opened(trace, "first_contact")["due"] == ONE_WORKING_DAY


def test_a_broken_handler_gives_an_incident_in_words(real):
    source = shipped("assignment.bpmn").replace(
        '<spiffworkflow:serviceTaskOperator id="notify.acknowledge" '
        'resultVariable="acknowledge_result">\n          <spiffworkflow:parameters/>',
        '<spiffworkflow:serviceTaskOperator id="notify.acknowledge" '
        'resultVariable="acknowledge_result">\n          <spiffworkflow:parameters>'
        '<spiffworkflow:parameter id="tone" type="str" value="\'kind\'"/>'
        "</spiffworkflow:parameters>",
    )
    assert "tone" in source
    trace = run(real, source, ["asb_assignment"], DEMO_SAMPLES["noise"])
    assert trace["outcome"] == "incident"
    (words,) = trace["incidents"]
    assert "'Acknowledge the report'" in words and "notify.acknowledge" in words
    assert "a parameter it does not take ('tone')" in words
    assert "Traceback" not in json.dumps(trace)
    assert trace["steps"][0]["current"]["asb_assignment"] == ["acknowledge"]
    assert trace["steps"][0]["focus"] == "asb_assignment"


def test_a_draft_the_engine_refuses_to_run_is_explained_in_words(real):
    source = shipped("asb_case.bpmn").replace(
        '"bpmn:tFormalExpression">reopened<', '"bpmn:tFormalExpression">open("x")<', 1
    )
    trace = run(real, source, ["asb_case"], DEMO_SAMPLES["noise"])
    assert trace["outcome"] == "failed" and trace["steps"] == []
    assert trace["summary"].startswith("The draft cannot run: ")
    assert "open" in trace["summary"]


def test_a_decision_table_draft_changes_the_priority(real):
    source, changed = re.subn(
        r'(_priority">\s*<text>)2(</text>)', r"\g<1>1\2", shipped("triage_priority.dmn")
    )
    assert changed == 1
    trace = run(real, source, ["dmn:triage_priority"], DEMO_SAMPLES["noise"])
    assert trace["outcome"] == "completed", trace["summary"]
    assert trace["steps"][0]["case"]["priority"] == 1
    assert opened(trace, "first_contact")["due"] == ONE_WORKING_DAY
    assert "draft.bpmn" not in trace["diagrams"]


def test_a_stage_draft_runs_on_a_reported_case(real):
    trace = run(real, shipped("legal_aba.bpmn"), ["asb_legal_aba"], DEMO_SAMPLES["noise"])
    assert trace["outcome"] == "completed", trace["summary"]
    assert "started asb_legal_aba" in trace["steps"][1]["title"]
    done = [s["task"]["name"] for s in trace["steps"] if s["kind"] == "task"]
    assert done[:2] == ["draft_aba", "record_aba_signed"]
    # The case's own tasks are left as they are: only the stage under test is worked.
    assert [t["name"] for t in trace["steps"][-1]["open"]] == ["assess_risk"]


def test_a_case_review_starts_from_its_message(real):
    trace = run(real, shipped("case_review.bpmn"), ["asb_case_review"], DEMO_SAMPLES["noise"])
    assert trace["outcome"] == "completed", trace["summary"]
    assert "case_review_application" in trace["steps"][1]["title"]
    assert "case_review_acknowledgement" in [m["template"] for m in every(trace, "letters")]


def test_the_real_database_and_clock_are_untouched(real):
    before = counts(real)
    clock.set_now(XMAS_EVE)
    trace = run(
        real, shipped("asb_case.bpmn"), ["asb_case"], DEMO_SAMPLES["hate_high_risk"], pace="late"
    )
    assert trace["steps"][-1]["at"] > (XMAS_EVE + timedelta(days=4)).isoformat()
    assert counts(real) == before
    assert clock.now() == XMAS_EVE  # the child moved its own clock, not this process's


def test_the_child_gets_no_database_url_nor_mail_settings(monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "ASB_SMTP_HOST", "ASB_NOTIFY_API_KEY", "ASB_FILES"):
        monkeypatch.setenv(name, "set")
    monkeypatch.setenv("ASB_LOG_LEVEL", "INFO")
    env = dry_run_module._child_env()
    assert "ASB_LOG_LEVEL" in env
    assert not {
        "DATABASE_URL",
        "SECRET_KEY",
        "ASB_SMTP_HOST",
        "ASB_NOTIFY_API_KEY",
        "ASB_FILES",
    } & set(env)


@pytest.mark.parametrize("form", sorted(p.stem for p in (BPMN / "forms").glob("*.json")))
def test_sample_answers_satisfy_every_shipped_form(form):
    schema = json.loads((BPMN / "forms" / f"{form}.json").read_text(encoding="utf-8"))
    data = answers_for(schema, AnswerContext(XMAS_EVE, ["police", "children_safeguarding"]))
    assert validate(schema, data) == {}
