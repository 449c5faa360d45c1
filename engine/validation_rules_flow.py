"""The diagram rules on the flow: decisions, start events and the paths from start to end.

``check_gateways`` wants a condition (or the default) on every way out of an exclusive or
inclusive gateway; ``check_starts`` wants the start events each process and subprocess needs
and flows that stay inside their scope; ``check_paths`` wants every element reachable from a
start and an end event reachable too. They are three of ``engine.validation.RULE_FUNCTIONS``.
"""

from __future__ import annotations

from collections.abc import Iterator

from .bpmn_model import (
    WARNING,
    Diagram,
    Problem,
    ValidationContext,
    condition_of,
    label,
    local,
)
from .bpmn_model import problem_at as _p


def check_gateways(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    """Every way out of an exclusive or inclusive gateway has a condition or is the default."""
    for gw in d.flow_nodes("exclusiveGateway", "inclusiveGateway"):
        scope = d.scope_of[gw.get("id")]
        outgoing = scope.out.get(gw.get("id"), [])
        default = gw.get("default")
        if default and default not in {f.get("id") for f in outgoing}:
            yield _p(
                gw,
                f"The default way out '{default}' does not leave this gateway.",
                "gateway_conditions",
            )
        for flow in outgoing if len(outgoing) > 1 else []:
            is_default = flow.get("id") == default
            if condition_of(flow) is None and not is_default:
                target = scope.by_id.get(flow.get("targetRef"))
                towards = f" (towards {label(target)})" if target is not None else ""
                yield _p(
                    flow,
                    f"This way out of the gateway {label(gw)}{towards} has no "
                    "condition and is not the default: give it a condition, or make it "
                    "the gateway's default.",
                    "gateway_conditions",
                )
            elif is_default and condition_of(flow):
                yield _p(
                    flow,
                    "This is the gateway's default way out, so its condition is never used.",
                    "gateway_conditions",
                    WARNING,
                )


def check_starts(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    """Every process and subprocess has its start events; flows stay inside their scope."""
    for scope in d.scopes:
        el, starts = scope.element, scope.starts()
        if local(el) == "process" and not starts:
            yield _p(el, "The process has no start event, so it can never begin.", "start_event")
        elif scope.event_triggered and (
            len(starts) != 1 or not any(local(c).endswith("EventDefinition") for c in starts[0])
        ):
            yield _p(
                el,
                "An event subprocess must begin with exactly one start event that "
                "waits for something (a message, timer, signal or error).",
                "start_event",
            )
        elif local(el) != "process" and not scope.event_triggered and len(starts) != 1:
            yield _p(
                el,
                f"A subprocess must have exactly one start event (it has {len(starts)}).",
                "start_event",
            )
        for flow in scope.flows:
            for end in ("sourceRef", "targetRef"):
                if flow.get(end) not in scope.by_id:
                    yield _p(
                        flow,
                        f"The flow's {end[:6]} '{flow.get(end)}' is not an element of "
                        f"the same process or subprocess.",
                        "parse",
                    )


def check_paths(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    """Every element can be reached from a start, and an end event can be reached."""
    unreachable: set[str] = set()
    for scope in d.scopes:
        el, starts = scope.element, scope.starts()
        if el.get("id") in unreachable or not scope.nodes or not (starts or scope.event_triggered):
            continue
        seen = scope.reachable(scope.entries())
        ends = [n for n in scope.nodes if local(n) == "endEvent"]
        if starts and not any(e.get("id") in seen for e in ends):
            yield _p(
                el,
                "No end event can be reached from the start, so this never finishes.",
                "end_event",
            )
        for node in scope.nodes:
            if node.get("id") not in seen:
                unreachable.add(node.get("id"))
                yield _p(
                    node,
                    "Nothing leads here from a start event, so this can never happen.",
                    "reachable",
                )
            elif (
                local(node) != "endEvent"
                and node.get("triggeredByEvent") != "true"
                and not any(True for _ in scope.next_nodes(node))
                and node.get("isForCompensation") != "true"
            ):
                yield _p(node, "The path stops here without an end event.", "end_event", WARNING)
