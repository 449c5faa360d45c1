"""Service-task handlers, registered by operation name (tasks/ registers the product's)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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

_current: ContextVar[ServiceContext | None] = ContextVar("asb_service_context", default=None)


class HandlerRegistry:
    """Maps operation names used in diagrams to Python callables ``fn(ctx, **params)``."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, name: str, fn: Handler | None = None) -> Any:
        """Register ``fn`` under ``name``; usable as a decorator."""
        def add(func: Handler) -> Handler:
            if name in self._handlers and self._handlers[name] is not func:
                raise ValueError(f"operation {name!r} is already registered")
            self._handlers[name] = func
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
