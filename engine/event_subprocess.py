"""Event subprocesses without changing the shared spec when one is triggered.

SpiffWorkflow 3.2 starts an event subprocess (a message, signal or error start) by linking it
into the spec on the spot: the process's start task gets it as an output and it gets the end
as its output (``BpmnStartTask.trigger_wf``). SpiffWorkflow keeps a spec per workflow, so the
link stays inside one instance. This engine parses each definition once and shares the spec
between every instance of it (``DefinitionStore``), so the link leaked:

- every instance started later in the same process got the event subprocess as a child of
  its start, listening from the first moment, and its end waited for it for ever (a closed
  case whose lifecycle never completed);
- a process that had not triggered it lacked the link, and finishing a triggered event
  subprocess there failed with "No input task connected".

``install()`` makes triggering add the subprocess task without linking it, and lets an event
subprocess task become ready without an input, which it never has until something links it.
Idempotent.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

_INSTALLED = "_asb_event_subprocess_fix"


def _trigger_without_linking(self: BpmnStartTask, my_task: Any, spec_name: str) -> UUID:
    """Start the triggered event subprocess as a child of the start task; the spec is kept."""
    spec = self._wf_spec.task_specs.get(spec_name)
    child = my_task._add_child(spec, TaskState.FUTURE)
    child.triggered = True
    child.task_spec._update(child)
    child_id: UUID = child.id
    return child_id


def _is_event_subprocess(spec: SubWorkflowTask) -> bool:
    start = getattr(spec._wf_spec, "start", None)
    return spec.name in getattr(start, "trigger_specs", ())


def install() -> None:
    """Patch SpiffWorkflow's start task and subprocess tasks once per interpreter."""
    if getattr(BpmnStartTask, _INSTALLED, False):
        return
    checked = SubWorkflowTask.test

    def test(self: SubWorkflowTask) -> None:
        if not self.inputs and _is_event_subprocess(self):
            return  # triggered by an event, never linked: nothing else to check
        checked(self)

    BpmnStartTask.trigger_wf = _trigger_without_linking
    SubWorkflowTask.test = test
    setattr(BpmnStartTask, _INSTALLED, True)
