"""The diagram-code sandbox: escapes are refused, ordinary diagram code keeps working."""

from __future__ import annotations

import ast
import copy
from datetime import date, timedelta
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine import sandbox
from engine.sandbox import SandboxedEnvironment, UnsafeCode, check_code

# Each entry is one way out of a naive eval/exec sandbox; all must be refused before running.
ESCAPES: dict[str, str] = {
    "mro_subclasses": "().__class__.__mro__[1].__subclasses__()",
    "underscore_name": "_hidden",
    "underscore_attribute": "tags._private",
    "import": "import os",
    "from_import": "from os import path",
    "dunder_import": "__import__('os')",
    "open_file": "open('/etc/passwd')",
    "eval": "eval('1 + 1')",
    "exec": "exec('x = 1')",
    "compile": "compile('1', 'f', 'eval')",
    "globals": "globals()",
    "locals": "locals()",
    "vars": "vars()",
    "getattr_dunder": "getattr(tags, '__class__')",
    "getattr_plain": "getattr(tags, 'append')",
    "type_of_value": "type(tags)",
    "type_new_class": "type('Escape', (), {})",
    "lambda_globals": "(lambda: 0).__globals__",
    "lambda_code": "(lambda: 0).__code__",
    "generator_frame": "(t for t in tags).gi_frame.f_globals",
    "generator_code": "(t for t in tags).gi_code",
    "frame_back": "frame.f_back",
    "traceback_frame": "err.tb_frame",
    "format_attribute": "'{0.__class__}'.format(tags)",
    "str_format_unbound": "str.format('{0.__class__}', tags)",
    "format_map": "'{x.__class__}'.format_map({'x': tags})",
    "fstring_dunder": "f'{tags.__class__}'",
    "mro_method": "int.mro()",
    "breakpoint": "breakpoint()",
    "exit": "exit()",
    "quit": "quit()",
    "help": "help()",
    "print": "print(tags)",
    "setattr": "setattr(tags, 'x', 1)",
    "delattr": "delattr(tags, 'x')",
    "attribute_assignment": "tags.x = 1",
    "class_definition": "class Escape:\n    pass",
    "global": "def f():\n    global tags\n    tags = 1",
    "nonlocal": "def f():\n    x = 1\n    def g():\n        nonlocal x\n        x = 2",
    "async_def": "async def f():\n    await g()",
    "with_block": "with tags:\n    pass",
    "decorator": "@staticmethod\ndef f():\n    pass",
    "huge_literal_power": "2 ** 100000000",
    "huge_literal_shift": "1 << 100000000",
    "system_clock": "datetime.now()",
    "unicode_lookalike": "\uff45val('1 + 1')",
}

# Exponential growth that only shows at run time: check_code passes, running refuses.
RUNTIME_LIMITS: dict[str, str] = {
    "nested_power": "2 ** 10 ** 10",
    "literal_repeat": "'a' * 10 ** 10",
    "list_repeat": "[0] * 10 ** 9",
    "repeat_from_data": "'ab' * big",
    "power_from_data": "2 ** big",
    "power_of_huge_exponent": "2 ** (10 ** 400)",
    "shift_from_data": "1 << big",
    "range_from_data": "range(big)",
    "doubling_string": "s = 'x'\nfor i in range(40):\n    s = s + s",
    "doubling_inplace": "s = ['x']\nfor i in range(40):\n    s += s",
    "squaring_number": "n = 3\nfor i in range(40):\n    n = n * n",
    "power_inplace": "n = 7\nn **= big",
    "clock_via_alias": "d = datetime\nresult = d.now()",
    "round_many_digits": "round(5, -big)",
    "sum_of_lists": "rows = [[0] * 100000] * 100\nflat = sum(rows, [])",
}


def _task_data() -> dict[str, Any]:
    return {"tags": ["noise", "litter"], "priority": 1, "closed": False, "big": 10**9,
            "case": {"risk": 4, "reference": "ASB-1"}}


def _is_expression(source: str) -> bool:
    try:
        ast.parse(source, mode="eval")
    except SyntaxError:
        return False
    return True


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_is_refused_everywhere(source: str) -> None:
    with pytest.raises(UnsafeCode) as refused:
        check_code(source, "exec")
    assert refused.value.lineno is not None
    assert refused.value.message.startswith(f"Line {refused.value.lineno}: ")
    env = SandboxedEnvironment()
    data = _task_data()
    before = copy.deepcopy(data)
    if _is_expression(source):
        with pytest.raises(UnsafeCode):
            check_code(source, "eval")
        with pytest.raises(UnsafeCode):
            env.evaluate(source, data)
        assert data == before
    with pytest.raises(UnsafeCode):
        env.execute(f"marker = 1\n{source}", data)
    assert data == before


@pytest.mark.parametrize("source", RUNTIME_LIMITS.values(), ids=RUNTIME_LIMITS.keys())
def test_runaway_growth_is_stopped_at_run_time(source: str) -> None:
    mode = "eval" if _is_expression(source) else "exec"
    check_code(source, mode)
    env = SandboxedEnvironment()
    data = _task_data()
    before = copy.deepcopy(data)
    run = env.evaluate if mode == "eval" else env.execute
    with pytest.raises(UnsafeCode, match=r"^Line \d+: "):
        run(source, data)
    if mode == "eval":
        assert data == before


def test_refusal_reads_like_a_sentence_with_the_line() -> None:
    with pytest.raises(UnsafeCode) as refused:
        check_code("().__class__", "eval")
    assert refused.value.message == "Line 1: names starting with '_' are not allowed ('__class__')"
    with pytest.raises(UnsafeCode) as refused:
        check_code("total = 1\nnames = []\nimport os", "exec")
    assert refused.value.lineno == 3
    assert refused.value.message.startswith("Line 3: 'import' is not allowed")
    assert isinstance(refused.value, ValueError)


def test_syntax_errors_are_refused_with_their_line() -> None:
    with pytest.raises(UnsafeCode) as refused:
        check_code("a = 1\nb = (2 +\n", "exec")
    assert refused.value.lineno is not None
    assert "not valid Python" in refused.value.message
    with pytest.raises(UnsafeCode, match="^Line 1: "):
        check_code("priority ==", "eval")


def test_compiler_warnings_do_not_escape() -> None:
    # pytest turns warnings into errors here: a SyntaxWarning leaking out would fail this.
    check_code("priority is 1", "eval")
    check_code('pattern = "\\d+"', "exec")
    assert SandboxedEnvironment().evaluate("priority is 1", {"priority": 1}) is True


def test_gateway_conditions_over_task_data() -> None:
    env = SandboxedEnvironment()
    data = _task_data()
    assert env.evaluate("priority == 1 and not closed", data) is True
    assert env.evaluate("case['risk'] >= 3 and 'noise' in tags", data) is True
    assert env.evaluate("'high' if case['risk'] > 5 else 'low'", data) == "low"
    assert env.evaluate("  len(tags) == 2", data) is True
    assert env.evaluate("case.get('missing') is None", data) is True
    assert env.evaluate("2 ** 10 + 3 * 4 - priority", data) == 1035
    assert data == _task_data()


def test_scripts_set_variables_and_mutate_task_data() -> None:
    env = SandboxedEnvironment()
    data = _task_data()
    data["counts"] = {"noise": 1}
    env.execute(
        "tags.append('graffiti')\n"
        "counts['noise'] += 1\n"
        "counts['litter'] = counts.get('litter', 0) + 1\n"
        "tags += ['dog fouling']\n"
        "case['risk'] *= 2\n"
        "del case['reference']\n"
        "first, *rest = tags\n"
        "total = 0\n"
        "for name, count in counts.items():\n"
        "    total += count\n",
        data,
    )
    assert data["tags"] == ["noise", "litter", "graffiti", "dog fouling"]
    assert data["counts"] == {"noise": 2, "litter": 1}
    assert data["case"] == {"risk": 8}
    assert data["total"] == 3
    assert (data["first"], data["rest"]) == ("noise", ["litter", "graffiti", "dog fouling"])


def test_comprehensions_fstrings_and_builtins() -> None:
    env = SandboxedEnvironment()
    data = _task_data()
    env.execute(
        "upper = [t.upper() for t in tags if t]\n"
        "lengths = {t: len(t) for t in tags}\n"
        "unique = {t[0] for t in tags}\n"
        "longest = max(len(t) for t in tags)\n"
        "label = f\"{case['reference']}: {len(tags)} tags, risk {case['risk']:.1f}\"\n"
        "ordered = sorted(tags, key=lambda t: -len(t))\n"
        "pairs = list(zip(range(2), reversed(tags)))\n"
        "kind = isinstance(priority, (int, float))\n"
        "deadline = date(2024, 1, 31) + timedelta(days=14)\n"
        "try:\n"
        "    ratio = 1 / 0\n"
        "except ZeroDivisionError:\n"
        "    ratio = None\n",
        data,
    )
    assert data["upper"] == ["NOISE", "LITTER"]
    assert data["lengths"] == {"noise": 5, "litter": 6}
    assert data["unique"] == {"n", "l"}
    assert data["longest"] == 6
    assert data["label"] == "ASB-1: 2 tags, risk 4.0"
    assert data["ordered"] == ["litter", "noise"]
    assert data["pairs"] == [(0, "litter"), (1, "noise")]
    assert data["kind"] is True
    assert data["deadline"] == date(2024, 2, 14)
    assert data["ratio"] is None


def test_numbers_dates_and_timer_expressions() -> None:
    env = SandboxedEnvironment()
    assert env.evaluate('"P10D"', {}) == "P10D"
    assert env.evaluate("round(2.71828, 2)", {}) == 2.72
    assert env.evaluate("sum([1, 2, 3]) + sum([[1], [2]], [])[1]", {}) == 8
    assert env.evaluate("datetime(2024, 5, 1, 9, 30).isoformat()", {}) == "2024-05-01T09:30:00"
    days = "(date.fromisoformat(d) - date(2024, 1, 1)).days"
    assert env.evaluate(days, {"d": "2024-01-31"}) == 30
    assert env.evaluate("list(range(3)) * 2", {}) == [0, 1, 2, 0, 1, 2]
    with pytest.raises(UnsafeCode, match="computer's clock"):
        check_code("due = date.today()", "exec")


def test_restrictedpython_refusals_are_reported_the_same_way() -> None:
    with pytest.raises(UnsafeCode) as refused:
        check_code("ok = 1\nx__roles__ = 1", "exec")
    assert refused.value.lineno == 2
    assert "__roles__" in refused.value.message


def test_runtime_guards_repeat_the_static_checks() -> None:
    with pytest.raises(UnsafeCode):
        sandbox._guard_getattr((), "__class__")
    with pytest.raises(UnsafeCode):
        sandbox._guard_getattr("{0}", "format")
    with pytest.raises(TypeError, match="cannot be changed"):
        sandbox._guard_write(("a", "b"))


def test_isinstance_accepts_only_safe_types() -> None:
    env = SandboxedEnvironment({"helper": len})
    with pytest.raises(TypeError):
        env.evaluate("isinstance(tags, helper)", _task_data())


def test_helpers_are_callable_and_do_not_leak_into_task_data() -> None:
    def due_after_working_days(start: str, days: int) -> str:
        return (date.fromisoformat(start) + timedelta(days=days)).isoformat()

    env = SandboxedEnvironment({"due_after_working_days": due_after_working_days})
    data = {"received": "2024-03-01"}
    assert env.evaluate("due_after_working_days(received, 5)", data) == "2024-03-06"
    env.execute(
        "def plus_one(n):\n"
        "    return n + 1\n"
        "due = due_after_working_days(received, plus_one(1))\n",
        data,
        external_context={"source": "officer"},
    )
    assert data == {"received": "2024-03-01", "due": "2024-03-03"}


def test_task_data_cannot_hide_a_helper() -> None:
    env = SandboxedEnvironment({"now": lambda: "2024-01-01"})
    with pytest.raises(ValueError, match="overwrites a predefined function"):
        env.execute("x = 1", {"now": "yesterday"})


def test_external_context_is_visible_but_not_kept() -> None:
    env = SandboxedEnvironment()
    data = {"a": 1}
    assert env.evaluate("a + extra", data, external_context={"extra": 2}) == 3
    env.execute("b = a + extra", data, external_context={"extra": 2})
    assert data == {"a": 1, "b": 3}


def test_helper_names_must_be_plain() -> None:
    with pytest.raises(ValueError, match="leading '_'"):
        SandboxedEnvironment({"_getattr_": getattr})


def test_compiled_code_is_cached() -> None:
    source = "priority + 41 == 42  # cached"
    env = SandboxedEnvironment()
    env.evaluate(source, {"priority": 1})
    hits = sandbox._compile.cache_info().hits
    for _ in range(3):
        assert env.evaluate(source, {"priority": 1}) is True
    assert sandbox._compile.cache_info().hits == hits + 3


TRIAGE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="triage_defs" targetNamespace="http://example.org/asb">
  <bpmn:process id="triage" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="score_report" name="Score report">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>score = sum(weights.get(t, 1) for t in tags)
summary = f"{len(tags)} tags, score {score}"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="route" default="to_low">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>to_high</bpmn:outgoing><bpmn:outgoing>to_low</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:scriptTask id="high" name="High risk">
      <bpmn:incoming>to_high</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>branch = "high"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="low" name="Low risk">
      <bpmn:incoming>to_low</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>branch = "low"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end_high"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_low"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="score_report"/>
    <bpmn:sequenceFlow id="f2" sourceRef="score_report" targetRef="route"/>
    <bpmn:sequenceFlow id="to_high" sourceRef="route" targetRef="high">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >score &gt;= 5 and not closed</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_low" sourceRef="route" targetRef="low"/>
    <bpmn:sequenceFlow id="f3" sourceRef="high" targetRef="end_high"/>
    <bpmn:sequenceFlow id="f4" sourceRef="low" targetRef="end_low"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _run_triage(script: str | None, data: dict[str, Any]) -> BpmnWorkflow:
    bpmn = TRIAGE_BPMN
    if script is not None:
        bpmn = bpmn.replace('branch = "high"', script)
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(bpmn.encode(), filename="triage.bpmn")
    spec = parser.get_spec("triage")
    subprocesses = parser.get_subprocess_specs("triage")
    engine = PythonScriptEngine(environment=SandboxedEnvironment())
    workflow = BpmnWorkflow(spec, subprocesses, script_engine=engine)
    workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
    workflow.do_engine_steps()
    return workflow


@pytest.mark.parametrize(("tags", "closed", "branch"), [
    (["noise", "violence"], False, "high"),
    (["noise", "violence"], True, "low"),
    (["litter"], False, "low"),
])
def test_workflow_takes_the_branch_the_condition_picks(
        tags: list[str], closed: bool, branch: str) -> None:
    workflow = _run_triage(None, {"tags": tags, "closed": closed, "weights": {"violence": 5}})
    assert workflow.is_completed()
    assert workflow.data["branch"] == branch
    assert workflow.data["summary"].startswith(f"{len(tags)} tags")
    ran = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert branch in ran
    assert ({"high", "low"} - {branch}).isdisjoint(ran)


def test_workflow_with_an_import_fails_naming_the_line() -> None:
    with pytest.raises(WorkflowTaskException) as failed:
        _run_triage('branch = "high"\nimport os', {
            "tags": ["violence"], "closed": False, "weights": {"violence": 5}})
    assert failed.value.error_type == "UnsafeCode"
    assert "Line 2: 'import' is not allowed" in str(failed.value)
    assert failed.value.task.task_spec.name == "high"
    assert "branch" not in failed.value.task.data
