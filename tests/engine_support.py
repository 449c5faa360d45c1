"""Helpers for engine tests: a handler registry with switchable failures, and a fresh engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import BpmnError
from engine.handlers import HandlerRegistry, ServiceContext
from engine.runtime import CaseEngine
from tasks.wiring import build_engine

BPMN_DIR = Path(__file__).parent / "bpmn"


@dataclass
class DemoServices:
    """Handlers for the demo diagram; each can be told to fail."""

    fail_assess: Exception | None = None
    fail_notify: Exception | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def registry(self) -> HandlerRegistry:
        reg = HandlerRegistry()

        @reg.register("demo.assess")
        def assess(ctx: ServiceContext, hate: bool = False) -> dict[str, Any]:
            self.calls.append(("assess", {"hate": hate}))
            if self.fail_assess is not None:
                raise self.fail_assess
            return {"priority": 1 if hate else 2}

        @reg.register("demo.notify")
        def notify(ctx: ServiceContext, reference: str) -> dict[str, Any]:
            self.calls.append(("notify", {"reference": reference}))
            if self.fail_notify is not None:
                raise self.fail_notify
            return {"sent_to": reference}

        @reg.register("demo.mark")
        def mark(ctx: ServiceContext, label: str = "") -> dict[str, Any]:
            from cases.audit import AuditRecord, record

            record(ctx.session, AuditRecord(at=ctx.now, actor=ctx.actor, action="timer_fired",
                                            object_type="test", object_id=label,
                                            case_reference=ctx.business_key))
            return {"marked": label}

        @reg.register("demo.spawn")
        def spawn(ctx: ServiceContext) -> dict[str, Any]:
            ctx.start_process("timer_mark", {"fire_at": "2030-01-01T00:00:00+00:00",
                                             "label": ctx.business_key})
            return {"asked": True}

        return reg


def make_engine(services: DemoServices | None = None) -> CaseEngine:
    """Build an engine wired like the product, but with the demo handlers."""
    return build_engine((services or DemoServices()).registry())


def assess_error() -> BpmnError:
    """The BPMN error the demo diagram's boundary event catches."""
    return BpmnError("assess_failed", "the risk matrix could not be read")
