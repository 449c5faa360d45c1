"""Instance state without its spec: specs are stored once per definition version.

SpiffWorkflow's serializer writes the whole process spec into every workflow's JSON. Our
instances reference a definition version instead, so the workflow converter below leaves
the spec out when dumping and takes already-parsed spec objects when loading.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_FORMAT
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

# Our format version: Spiff's JSON format plus "spec stored apart". Bump when either changes.
SERIALIZER_VERSION = f"{SPIFF_FORMAT}+ref1"


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Dump a top-level workflow without specs; restore it around given spec objects."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dict(dct)

    def from_dict(self, dct: dict[str, Any], spec: BpmnProcessSpec | None = None,
                  subprocess_specs: dict[str, BpmnProcessSpec] | None = None) -> BpmnWorkflow:
        if spec is None:
            raise ValueError("an instance's spec must be supplied when loading it")
        from uuid import UUID

        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class InstanceSerializer:
    """Turns specs and workflows into JSON text and back."""

    version = SERIALIZER_VERSION

    def __init__(self) -> None:
        registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        self._full = BpmnWorkflowSerializer(registry)
        # A second registry whose workflow converter leaves the spec out.
        lean = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        _SpeclessWorkflowConverter(BpmnWorkflow, lean)
        self._lean = BpmnWorkflowSerializer(lean)

    def dump_specs(self, spec: BpmnProcessSpec,
                   subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
        """Serialize a spec bundle deterministically, so its hash identifies its content."""
        bundle = {
            "spec": self._full.to_dict(spec),
            "subprocess_specs": {k: self._full.to_dict(v) for k, v in subprocess_specs.items()},
        }
        return json.dumps(bundle, sort_keys=True, separators=(",", ":"))

    def load_specs(self, text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
        """Restore a spec bundle written by ``dump_specs``."""
        bundle = json.loads(text)
        spec = self._full.from_dict(bundle["spec"])
        subs = {k: self._full.from_dict(v) for k, v in bundle["subprocess_specs"].items()}
        return spec, subs

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """Serialize a workflow's state (tasks, data, events), without its spec."""
        self._lean.registry._encoder_mode = True  # same switch Spiff flips in serialize_json
        try:
            dct = self._lean.to_dict(workflow)
        finally:
            self._lean.registry._encoder_mode = False
        return json.dumps(dct, separators=(",", ":"), cls=self._lean._encoder_cls)

    def loads(self, text: str, spec: BpmnProcessSpec,
              subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
        """Restore a workflow around already-parsed specs."""
        dct = json.loads(text)
        workflow: BpmnWorkflow = self._lean.from_dict(
            dct, spec=spec, subprocess_specs=subprocess_specs)
        return workflow

    def full_json(self, workflow: BpmnWorkflow) -> str:
        """SpiffWorkflow's own full JSON (spec included), for comparison and export."""
        text: str = self._full.serialize_json(workflow)
        return text

