"""Service-task handlers, registered by operation name (tasks/ registers the product's)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .errors import UnknownOperation


@dataclass
class ServiceContext:
    """What a handler may use: the unit of work's session, the case, the task and its data."""

    session: Session
    business_key: str
    instance_id: int
    task_name: str
    data: dict[str, Any]
    now: datetime
    actor: str
    notes: list[str] = field(default_factory=list)
    follow_ups: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def start_process(self, process_id: str, data: dict[str, Any]) -> None:
        """Ask the engine to start another process for the same case after this step."""
        self.follow_ups.append((process_id, dict(data)))


Handler = Callable[..., Any]


@dataclass(frozen=True)
class OperatorParams:
    """The parameters an operation takes: required ones, optional ones, and whether any other."""

    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    any_other: bool = False

    @classmethod
    def of(cls, fn: Handler) -> OperatorParams:
        """Read the parameters from a handler's signature ``fn(ctx, ...)``."""
        try:
            params = list(inspect.signature(fn).parameters.values())[1:]
        except (TypeError, ValueError):  # a builtin without a readable signature
            return cls(any_other=True)
        named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        return cls(required=frozenset(p.name for p in named if p.default is p.empty),
                   optional=frozenset(p.name for p in named if p.default is not p.empty),
                   any_other=any(p.kind is p.VAR_KEYWORD for p in params))

_current: ContextVar[ServiceContext | None] = ContextVar("asb_service_context", default=None)


class HandlerRegistry:
    """Maps operation names used in diagrams to Python callables ``fn(ctx, **params)``."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._params: dict[str, OperatorParams] = {}

    def register(self, name: str, fn: Handler | None = None, *,
                 params: Iterable[str] | None = None, optional: Iterable[str] = ()) -> Any:
        """Register ``fn`` under ``name``; usable as a decorator.

        ``params`` (required) and ``optional`` declare the parameters a diagram passes; without
        them they are read from the handler's signature after ``ctx``.
        """
        def add(func: Handler) -> Handler:
            if name in self._handlers and self._handlers[name] is not func:
                raise ValueError(f"operation {name!r} is already registered")
            self._handlers[name] = func
            self._params[name] = (OperatorParams.of(func) if params is None else OperatorParams(
                frozenset(params), frozenset(optional)))
            return func

        return add(fn) if fn is not None else add

    def get(self, name: str) -> Handler:
        """Return the handler for ``name`` or raise ``UnknownOperation``."""
        try:
            return self._handlers[name]
        except KeyError:
            raise UnknownOperation(f"no handler is registered for operation {name!r}") from None

    def names(self) -> set[str]:
        """Return every registered operation name (for diagram validation)."""
        return set(self._handlers)

    def operators(self) -> dict[str, OperatorParams]:
        """Return every operation name with the parameters it takes (for diagram validation)."""
        return dict(self._params)


@contextmanager
def service_context(ctx: ServiceContext) -> Iterator[ServiceContext]:
    """Make ``ctx`` the context service tasks run in, for the duration of one engine step."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def current_context() -> ServiceContext:
    """Return the context of the engine step now running."""
    ctx = _current.get()
    if ctx is None:
        raise RuntimeError("service task run outside an engine step")
    return ctx
