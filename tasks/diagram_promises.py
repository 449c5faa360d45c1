"""The promises a process diagram must keep: steps on every path, and messages always listened to.

``PROMISES`` lists, for each shipped process that carries a promise of the service commitment
(DOMAIN.md), the checks its diagram must pass: an ``OnEveryPath`` promise wants a step (a call
activity, a service task's operation or a user task's form) passed on every way from the start
to an end, following only the flows a run may take (``may_take`` tries the conditions with the
data the promise assumes); a ``Listens`` promise wants an event subprocess that a message starts
and that passes the step. tasks/diagram_checks.py runs them (``policy_problems``);
docs/diagram-rules.md explains each to process owners.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from engine.sandbox import SandboxedEnvironment
from engine.validation import (
    Diagram,
    Element,
    Problem,
    Scope,
    code_names,
    condition_of,
    kind,
    local,
    spiff_props,
)

from .wiring import DIAGRAM_GLOBALS

Target = Callable[[Element], bool]


def read_names(source: str, mode: str) -> set[str]:
    """The names code reads without defining them (none when it is not valid Python)."""
    try:
        return code_names(source, mode)[0]
    except (SyntaxError, ValueError, RecursionError):
        return set()


def calls(process_id: str) -> Target:
    """Matches a call activity of ``process_id``."""
    return lambda n: local(n) == "callActivity" and n.get("calledElement") == process_id


def runs(*operations: str) -> Target:
    """Matches a service task calling one of ``operations``."""

    def match(n: Element) -> bool:
        op = n.find("{*}extensionElements/{*}serviceTaskOperator")
        return local(n) == "serviceTask" and op is not None and op.get("id") in operations

    return match


def has_form(key: str) -> Target:
    """Matches a user task with the form ``key``."""
    return lambda n: local(n) == "userTask" and spiff_props(n).get("form") == key


@dataclass(frozen=True)
class OnEveryPath:
    """A promise kept by passing a step on every way through the process."""

    rule: str
    target: Target
    step: str  # "the safeguarding referral (process asb_safeguarding)"
    promise: str  # "the service commitment promises ..."
    assume: Mapping[str, Any] = field(default_factory=dict)
    when: str = ""  # " when the safeguarding flag is set"

    def check(self, d: Diagram, scope: Scope) -> Iterator[Problem]:
        """Problems of one process: the step is missing, or an end can be reached without it."""
        taken = may_take(d, self.assume)
        if not contains(d, scope, self.target):
            yield Problem(
                scope.element.get("id"),
                "Process",
                f"The process never has {self.step}, but {self.promise}.",
                self.rule,
            )
            return
        for end in scope.ends_without(passing(d, self.target, taken), taken):
            yield Problem(
                end.get("id"),
                kind(end),
                f"A case can finish here{self.when} without {self.step}, but {self.promise}.",
                self.rule,
            )


def contains(d: Diagram, scope: Scope, target: Target) -> bool:
    """True when ``target`` matches a node of the scope or of its embedded subprocesses."""
    inner = {s.element.get("id"): s for s in d.scopes}
    return any(
        target(n)
        or (
            n.get("id") in inner
            and n.get("triggeredByEvent") != "true"
            and contains(d, inner[n.get("id")], target)
        )
        for n in scope.nodes
    )


def passing(d: Diagram, target: Target, taken: Callable[[Element], bool]) -> Target:
    """Matches the target, or an embedded subprocess every way through which passes it."""
    inner = {s.element.get("id"): s for s in d.scopes}

    def passes(n: Element) -> bool:
        sub = inner.get(n.get("id"))
        return target(n) or (
            sub is not None
            and not sub.event_triggered
            and contains(d, sub, target)
            and not sub.ends_without(passes, taken)
        )

    return passes


def _constants(text: str) -> list[Any]:
    """The literal values an expression compares with (to try them as values of its names)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return []
    found = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    return sorted(found - {True, False, None}, key=repr)


def may_take(d: Diagram, assume: Mapping[str, Any]) -> Callable[[Element], bool]:
    """Whether a run may follow a flow given ``assume`` (other names tried with several values)."""
    env = SandboxedEnvironment(dict(DIAGRAM_GLOBALS))
    fixed = set(assume) | set(DIAGRAM_GLOBALS)

    @functools.cache
    def outcomes(text: str) -> frozenset[bool | None]:
        free = sorted(read_names(text, "eval") - fixed)
        tries = [True, False, None, *_constants(text)]
        if len(tries) ** len(free) > 512:
            return frozenset({True, False})
        results: set[bool | None] = set()
        for values in product(tries, repeat=len(free)):
            data = {**assume, **dict(zip(free, values, strict=True))}
            try:
                results.add(bool(env.evaluate(text, data)))
            except Exception:  # noqa: BLE001 - a condition that fails may go either way
                results.add(None)
        return frozenset(results)

    def taken(flow: Element) -> bool:
        cond = condition_of(flow)
        if cond is not None:
            return outcomes(cond) != {False}
        source = d.by_id.get(flow.get("sourceRef"))
        if source is None or source.get("default") != flow.get("id"):
            return True
        siblings = d.scope_of[source.get("id")].out.get(source.get("id"), [])
        return not any(outcomes(c) == {True} for c in map(condition_of, siblings) if c)

    return taken


@dataclass(frozen=True)
class Listens:
    """A promise kept by an event subprocess: a message starts a step, whatever the case does."""

    rule: str
    message: str
    target: Target
    step: str
    promise: str

    def check(self, d: Diagram, scope: Scope) -> Iterator[Problem]:
        """Problems of one process: nothing catches the message, or its handling skips the step."""
        inner = {s.element.get("id"): s for s in d.scopes}
        found: list[list[Problem]] = []
        for node in scope.nodes:
            sub = inner.get(node.get("id"))
            refs = [
                r.get("messageRef")
                for start in (sub.starts() if sub else [])
                for r in start.iterfind("{*}messageEventDefinition")
            ]
            if (
                sub is not None
                and sub.event_triggered
                and any(d.messages.get(ref) == self.message for ref in refs)
            ):
                found.append(
                    list(OnEveryPath(self.rule, self.target, self.step, self.promise).check(d, sub))
                )
        if not found:
            yield Problem(
                scope.element.get("id"),
                "Process",
                f"Nothing in the process handles the message '{self.message}', but {self.promise}.",
                self.rule,
            )
        elif all(found):
            yield from found[0]


COMMITMENT = "the service commitment promises"
FIRST_CONTACT = f"{COMMITMENT} to contact the reporter within 1 or 5 working days"
SAFEGUARDING = (
    f"{COMMITMENT} to link a child or vulnerable adult at risk with safeguarding services"
)
OFFICER = f"{COMMITMENT} to tell the reporter who their case officer is"
CLOSURE = f"{COMMITMENT} to keep the reporter informed, closure included"
CASE_REVIEW = f"{COMMITMENT} the right to ask for an ASB Case Review"
COMPLAINT = f"{COMMITMENT} the right to make a formal complaint"
PROMISES: dict[str, tuple[OnEveryPath | Listens, ...]] = {
    "asb_case": (
        OnEveryPath(
            "first_contact_deadline",
            calls("asb_first_contact"),
            "the first contact (process asb_first_contact)",
            FIRST_CONTACT,
        ),
        OnEveryPath(
            "safeguarding_referral",
            calls("asb_safeguarding"),
            "the safeguarding referral (process asb_safeguarding)",
            SAFEGUARDING,
            {"safeguarding": True},
            " when the safeguarding flag is set",
        ),
        OnEveryPath(
            "officer_named",
            calls("asb_assignment"),
            "the officer's assignment and acknowledgement (process asb_assignment)",
            OFFICER,
            {"reopened": False},
            " for a new case",
        ),
        OnEveryPath(
            "told_at_closure",
            calls("asb_closure"),
            "the closure and the closure notice (process asb_closure)",
            CLOSURE,
        ),
        Listens(
            "case_review_available",
            "case_review_application",
            runs("case_review.apply_from_case"),
            "the start of the Case Review (case_review.apply_from_case)",
            CASE_REVIEW,
        ),
        Listens(
            "complaint_available",
            "complaint",
            runs("complaints.apply_from_case"),
            "the start of the complaint (complaints.apply_from_case)",
            COMPLAINT,
        ),
    ),
    "asb_triage": (
        OnEveryPath(
            "first_contact_deadline",
            runs("triage.set_deadline"),
            "the first-contact deadline set from the council's policy (triage.set_deadline)",
            FIRST_CONTACT,
        ),
    ),
    "asb_first_contact": (
        OnEveryPath(
            "first_contact_deadline",
            has_form("first_contact"),
            "the first-contact task (form 'first_contact')",
            FIRST_CONTACT,
        ),
    ),
    "asb_assignment": (
        OnEveryPath(
            "officer_named",
            runs("assignment.assign_officer"),
            "a named case officer (assignment.assign_officer)",
            OFFICER,
        ),
        OnEveryPath(
            "officer_named",
            runs("notify.acknowledge"),
            "the acknowledgement naming the officer (notify.acknowledge)",
            OFFICER,
        ),
    ),
    "asb_closure": (
        OnEveryPath(
            "told_at_closure",
            runs("notify.closure"),
            "the closure notice (notify.closure)",
            CLOSURE,
        ),
    ),
    "asb_safeguarding": (
        OnEveryPath(
            "safeguarding_referral",
            runs("safeguarding.record_referral"),
            "the referral being made and recorded (safeguarding.record_referral)",
            SAFEGUARDING,
        ),
    ),
    "asb_case_review": (
        OnEveryPath(
            "case_review_available",
            runs("case_review.acknowledge"),
            "the acknowledgement of the application (case_review.acknowledge)",
            CASE_REVIEW,
        ),
        OnEveryPath(
            "case_review_available",
            runs("case_review.threshold_not_met", "case_review.send_outcome"),
            "telling the applicant the decision (case_review.threshold_not_met or "
            "case_review.send_outcome)",
            CASE_REVIEW,
        ),
    ),
}
