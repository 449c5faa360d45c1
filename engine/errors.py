"""The engine's specific exceptions."""

from __future__ import annotations


class EngineError(Exception):
    """Base of everything the engine raises on purpose."""


class DefinitionNotFound(EngineError):
    """No published definition for a process id (or no such version)."""


class DiagramInvalid(EngineError):
    """A diagram cannot be parsed or cannot run; ``problems`` says where and why."""

    def __init__(self, problems: list[dict[str, str]]):
        self.problems = problems
        first = problems[0]["message"] if problems else "invalid diagram"
        super().__init__(first)


class InstanceNotFound(EngineError):
    """No process instance with that id or business key."""


class StateFormatUnknown(EngineError):
    """An instance was stored in a serializer format this build cannot read."""


class TaskNotFound(EngineError):
    """No human task with that id."""


class TaskConflict(EngineError):
    """The task was completed, cancelled or claimed by someone else meanwhile."""


class FormInvalid(EngineError):
    """Form data was refused; ``errors`` maps each field to one message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class UnknownOperation(EngineError):
    """A service task names an operation no handler is registered for."""


class BpmnError(EngineError):
    """Raised by a service handler to throw a BPMN error with a code the diagram may catch."""

    def __init__(self, code: str, message: str = ""):
        self.code = code
        self.message = message or code
        super().__init__(self.message)
