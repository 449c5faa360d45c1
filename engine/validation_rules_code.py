"""The diagram rules on code: what service tasks call, and what expressions and scripts may do.

``check_service_tasks`` holds each service task to an operation the system provides and the
parameters it takes; ``check_expressions`` puts every condition, timer, script, deadline,
assignee and parameter through the sandbox and accepts only names that are process data or
helpers. They are two of ``engine.validation.RULE_FUNCTIONS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .bpmn_model import (
    BPMN,
    SPIFF,
    Diagram,
    Problem,
    ValidationContext,
    code_names,
    expressions,
    names_written,
)
from .bpmn_model import problem_at as _p
from .bpmn_model import suggestion as _suggest
from .sandbox import BUILTIN_NAMES, UnsafeCode, check_code

_DURATION = re.compile(r"R?\d*/?P[0-9YMWDTHS.]+$")


def check_service_tasks(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    """Every service task names an operation the system provides, with its parameters."""
    for task in d.flow_nodes("serviceTask"):
        op = task.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}serviceTaskOperator")
        name = (op.get("id") or "").strip() if op is not None else ""
        if not name:
            yield _p(
                task,
                "The service task names no operation: choose one the system provides.",
                "service_task_operator",
            )
            continue
        if ctx.operators is None:
            continue
        if name not in ctx.operators:
            yield _p(
                task,
                f"The service task calls '{name}', which the system does not "
                f"provide.{_suggest(name, ctx.operators)}",
                "service_task_operator",
            )
            continue
        params = ctx.operators[name]
        given = set()
        for param in op.iter(f"{{{SPIFF}}}parameter"):
            pid = param.get("id") or ""
            if param.get("value") is not None and param.get("type") is None:
                yield _p(task, f"The parameter '{pid}' has no type.", "service_task_parameters")
            elif param.get("value") is not None:
                given.add(pid)
        for missing in sorted(params.required - given):
            yield _p(
                task,
                f"'{name}' needs the parameter '{missing}', which the task does not give.",
                "service_task_parameters",
            )
        takes = sorted(params.required | params.optional)
        for extra in sorted(given - set(takes)) if not params.any_other else []:
            yield _p(
                task,
                f"'{name}' takes no parameter '{extra}' (it takes "
                f"{', '.join(takes) if takes else 'none'}).",
                "service_task_parameters",
            )


def check_expressions(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    """Every piece of diagram code passes the sandbox and reads only data and helpers."""
    known: set[str] | None = None
    if ctx.data_names is not None:
        builtins = set(BUILTIN_NAMES)
        known = builtins | ctx.helpers | ctx.data_names | names_written(d, ctx)
    for el, what, source, mode in expressions(d):
        if not source.strip():
            yield _p(el, f"The {what} is empty.", "expression_code")
            continue
        try:
            check_code(source, mode)  # type: ignore[arg-type]
        except UnsafeCode as exc:
            one_line = "\n" not in source.strip()
            reason = re.sub(r"^Line \d+: ", "", exc.message) if one_line else exc.message
            yield _p(el, f"The {what} cannot be used: {reason}.", "expression_code")
            continue
        unknown = code_names(source, mode)[0] - known if known is not None else set()
        for name in sorted(unknown):
            hint = (
                f' Put a duration in quotes, e.g. "{name}".'
                if _DURATION.match(name)
                else _suggest(name, known or ())
            )
            yield _p(
                el,
                f"The {what} uses '{name}', which is neither process data nor a "
                f"helper the engine provides.{hint}",
                "expression_names",
            )
