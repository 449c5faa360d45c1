"""The product's service-task handlers, registered by operation name for diagrams to call."""

from __future__ import annotations

from engine.handlers import HandlerRegistry

handlers = HandlerRegistry()
