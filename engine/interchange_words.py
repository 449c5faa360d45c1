"""What the interchange report says: the wording of every finding, and the report's values.

``WORDING`` is the table of words a process owner can act on: a line in brackets names one of
our own findings (``SAY[key]``), any other unindented line is a pattern matched against
SpiffWorkflow's refusal (``plain_words``). ``Finding``, ``Element``, ``ProcessSummary`` and
``Report`` are what ``engine.interchange.examine`` returns; nothing here reads XML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What the engine says, in words a process owner can act on. A line in brackets names one of
# our own findings; any other unindented line is a pattern matched against SpiffWorkflow's
# refusal. The indented lines under it are the words ({0}... are the pattern's groups; @name
# stands for the words of [name]).
WORDING = r"""
[operator]
    The service task names no operation for this engine to call
    (spiffworkflow:serviceTaskOperator); other engines' settings do not count.
[unconditioned]
    The flow leaves a gateway without a condition and is not the gateway's default flow.
[unsupported]
    This engine cannot run a {0}.
[compensateEventDefinition]
    This engine does not run compensation events.
[linkEventDefinition]
    This engine does not run link events.
[eventDefinitionRef]
    The event refers to an event definition declared elsewhere, which this engine does not read.
[call]
    It calls '{0}', which this file does not define; import it with the file that does.
[script]
    The script is written in {0}; this engine runs Python scripts only.
[timer]
    The timer says {0} without quotes; this engine reads timers as expressions, so write "{0}".
[store]
    The data store '{0}' is not connected to anything this engine can read or write.
[condition]
    The condition {0!r} cannot run here: {1}
[elsewhere]
    A process it calls, in another file, cannot run: its element {0} says: {1}
[code]
    Its code cannot run here: {0}
[not-executable]
    The process is not marked executable (isExecutable="true"), so this engine will not start it.
[no-layout]
    The process has no diagram layout.
[some-layout]
    {0} of its elements have no diagram layout: {1}.
[no-process]
    The file defines no process, only {0}: there is nothing this engine can run.
[vendor]
    Settings for another tool ({0}: {1}) are kept in the file but this engine ignores them.
A Service Task must have an operator
    @operator
Exactly one start event is required in a SubWorkflow Task; found (\d+)
    A sub-process needs exactly one start event; this one has {0}.
A SubWorkflow Must contain an End event
    A sub-process needs an end event.
must specify a cardinality or a loop input
    The activity repeats (multi-instance) but says neither how many times nor over which
    collection.
exactly one of cardinality or loop input
    The repeated activity gives both a count and a collection; give one of them.
loop (input|output) data reference is missing
    The repeated activity names a collection that its data {0}s do not declare.
A loopMaximum or loopCondition must be specified
    The loop has neither a maximum nor a condition, so it would never end.
Multiple outgoing flows are not supported
    The activity has several outgoing flows (an implicit parallel split); this engine needs a
    parallel gateway after it instead.
outgoing sequence flow without condition
    @unconditioned
No start event found
    The process has no start event, so it cannot be started.
no support implemented for this task type
    This engine cannot run this kind of element.
No "calledElement" attribute
    The call activity does not say which process it calls.
No Script Provided
    The script task has no script.
Unknown Time Specification|Time Specification Error
    The timer gives no date, duration or cycle this engine can read.
Conditional event definition with missing condition
    The conditional event has no condition.
Cannot resolve data(Input|Output)Association
    It reads or writes data that this engine cannot find in the process.
Expected an? (Message|Signal|Error|Escalation) node
    The event refers to a {0} that the file does not declare.
(\w+[ \w]*) identifier is missing
    A {0} in the file has no id.
Sequential ordering for ad hoc
    An ad-hoc sub-process with sequential ordering cannot run here.
Ad hoc subprocesses may not contain start or end
    An ad-hoc sub-process may not contain start or end events.
Cancel Events may only be used with transactions
    A cancel event only works on a transaction sub-process.
Duplicate process ID
    Two processes share this id.
DMN|[Dd]ecision
    The business rule task names no decision table this engine has
    (spiffworkflow:calledDecisionId).
Could not find messageRef
    A message event does not say which message it is.
we found two items, perhaps a form has the same ID\? \((.*)\)
    A flow from it leads to '{0}', which is not in the same process.
raise_validation_exception\(\) got an unexpected keyword
    The event refers to a message, signal, error or escalation that the file does not declare.
"""


def _wording(text: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for line in text.strip().splitlines():
        if line.startswith(" "):
            pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]} {line.strip()}".strip())
        else:
            pairs.append((line, ""))
    return pairs


WORDS = _wording(WORDING)
SAY = {key.strip("[]"): words for key, words in WORDS if key.startswith("[")}


@dataclass(frozen=True)
class Finding:
    """One thing the engine says about an element: an ``error`` stops the file running.

    ``rule`` names the check: a key of WORDING, ``engine`` (SpiffWorkflow refused the element),
    ``code`` (the sandbox refused its code) or ``file``.
    """

    element_id: str
    element_type: str
    message: str
    severity: str = "error"
    rule: str = "engine"

    def as_dict(self) -> dict[str, str]:
        """The finding in the API's problem shape, with its rule and severity."""
        keys = ("element_id", "element_type", "message", "rule", "severity")
        return {key: str(getattr(self, key)) for key in keys}


@dataclass(frozen=True)
class Element:
    """A drawable BPMN element: its id, kind, name, process (or collaboration), layout."""

    id: str
    type: str
    name: str
    process_id: str
    laid_out: bool


@dataclass(frozen=True)
class ProcessSummary:
    """One process of the file and the engine's verdict on it."""

    id: str
    name: str
    marked_executable: bool
    elements: int
    without_layout: tuple[str, ...]
    runs: bool


@dataclass(frozen=True)
class Report:
    """What a file defines and whether (and why not) this engine can run it."""

    readable: bool
    processes: tuple[ProcessSummary, ...] = ()
    collaborations: tuple[str, ...] = ()
    elements: tuple[Element, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def executable(self) -> bool:
        """True when the file has processes and nothing stops the engine running them."""
        return bool(self.processes) and not self.problems()

    def problems(self) -> list[dict[str, str]]:
        """The errors, in the API's problem shape."""
        return [f.as_dict() for f in self.findings if f.severity == "error"]

    def warnings(self) -> list[dict[str, str]]:
        """What does not stop the file running but is worth knowing (layout, other tools)."""
        return [f.as_dict() for f in self.findings if f.severity != "error"]


def plain_words(exc: BaseException, kind: str) -> str:
    """Say why the engine refused an element, in words rather than a stack trace."""
    text = " ".join(str(exc).split())
    for pattern, words in WORDS:
        match = None if pattern.startswith("[") else re.search(pattern, text)
        if match:
            return SAY.get(words[1:], words).format(*match.groups())
    text = re.sub(r"<[^<>]* at 0x[0-9a-f]+>", "an element", text)[:160] or type(exc).__name__
    return f"The engine cannot read this {kind.removeprefix('bpmn:')} ({text})."
