"""A worker process for the concurrency tests: ``python -m tests.worker_proc URL [slow]``."""

from __future__ import annotations

import sys
import time

from engine.database import make_engine, make_session_factory
from engine.handlers import ServiceContext
from engine.worker import Worker
from tests.engine_support import DemoServices
from tests.engine_support import make_engine as make_case_engine


def main() -> None:
    url = sys.argv[1]
    slow = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    services = DemoServices()
    registry = services.registry()
    if slow:
        mark = registry.get("demo.mark")

        def slow_mark(ctx: ServiceContext, label: str = "") -> dict[str, str]:
            time.sleep(slow)
            return mark(ctx, label=label)

        registry._handlers["demo.mark"] = slow_mark
    engine = make_case_engine()
    engine.script_engine.handlers = registry
    worker = Worker(engine, make_session_factory(make_engine(url)), batch=10, name=sys.argv[0])
    print("ready", flush=True)
    woken = worker.drain()
    print(f"woken {woken}", flush=True)


if __name__ == "__main__":
    main()
