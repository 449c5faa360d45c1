"""The script engine diagrams run with: the sandbox, plus dispatch of service tasks."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.task import Task

from .handlers import HandlerRegistry, current_context


class ProductScriptEngine(PythonScriptEngine):
    """Spiff's script engine with a sandboxed environment and our service-task dispatch."""

    def __init__(self, environment: Any, handlers: HandlerRegistry):
        super().__init__(environment=environment)
        self.handlers = handlers

    def call_service(self, task: Task, operation_name: str = "",
                     operation_params: dict[str, Any] | None = None, **_: Any) -> str:
        """Call the handler registered for ``operation_name`` with the evaluated parameters."""
        handler = self.handlers.get(operation_name)
        params = {k: v["value"] for k, v in (operation_params or {}).items()}
        ctx = replace(current_context(), task_name=task.task_spec.bpmn_id or task.task_spec.name,
                      data=task.data)
        return json.dumps(handler(ctx, **params), default=str)
