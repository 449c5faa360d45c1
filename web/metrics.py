"""Prometheus metrics at ``/metrics``: requests from every process, queues read from the database.

Request counts and latencies are counted in the process that served them. Under gunicorn set
``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py does) so that every worker process writes its
counts to files there and any process can answer a scrape with the sum. Everything about the
work itself (task completions, timer lag, queue depth, open incidents) is read from the
database at scrape time (workers' heartbeats included, see ``web.heartbeat``), so it is the
same whichever process answers and covers the ``asb worker`` processes on other machines too.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from datetime import datetime

from flask import Blueprint, Flask, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from cases.outbox import OutboxMessage, OutboxStatus
from engine import clock
from engine.models import HumanTask, Incident, IncidentStatus, ProcessInstance, TaskStatus

from .extensions import db
from .heartbeat import worker_state

bp = Blueprint("metrics", __name__)

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # the route label of a request no rule matched (a 404 or 405)
FORWARDED_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")

REQUESTS = Counter("asb_http_requests", "HTTP requests answered, by route template and status.",
                   ("method", "route", "status"))
LATENCY = Histogram("asb_http_request_duration_seconds",
                    "Time to answer an HTTP request, by route template.", ("method", "route"),
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def init_app(app: Flask) -> None:
    """Count every request and serve ``/metrics`` (register before the other hooks)."""
    app.before_request(_start_timer)
    app.after_request(_count)
    app.register_blueprint(bp)


def route_label() -> str:
    """The matched rule's template (never the raw path, which can hold references or keys)."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    method = request.method if request.method in KNOWN_METHODS else "OTHER"
    route = route_label()
    REQUESTS.labels(method, route, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(method, route).observe(time.perf_counter() - started)
    return response


def _setting(name: str, default: str) -> str:
    """``ASB_<name>`` from the app's config (tests), else the environment's text as it is."""
    value = current_app.config.get(f"ASB_{name}")
    if value is None:
        # Not Flask's copy: it would read a token of digits as a number.
        value = os.environ.get(f"ASB_{name}", default)
    return str(value)


def _allowed_address(remote: str | None) -> bool:
    """Tell whether ``remote`` is in ``ASB_METRICS_ALLOW`` (addresses or networks, commas)."""
    if not remote or any(request.headers.get(h) for h in FORWARDED_HEADERS):
        # Through a reverse proxy every caller looks like the proxy's own address.
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    for item in _setting("METRICS_ALLOW", "127.0.0.1").split(","):
        try:
            if item.strip() and address in ipaddress.ip_network(item.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def _has_token() -> bool:
    token = _setting("METRICS_TOKEN", "")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


@bp.get("/metrics")
def metrics() -> Response:
    """The metrics text, for an allowed address or the bearer token; otherwise 404."""
    if not (_has_token() or _allowed_address(request.remote_addr)):
        abort(404)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    work = CollectorRegistry()
    work.register(WorkCollector(db(), clock.now()))
    return Response(body + generate_latest(work), mimetype=CONTENT_TYPE_LATEST)


class WorkCollector(Collector):
    """The state of the work, read from the database once per scrape."""

    def __init__(self, session: Session, now: datetime):
        self.session = session
        self.now = now

    def collect(self) -> Iterator[Metric]:
        """Yield the database-derived metrics; only ``asb_database_up 0`` when it fails."""
        up = GaugeMetricFamily("asb_database_up", "1 when the database answered this scrape.")
        try:
            found = list(self._read())
        except SQLAlchemyError:
            self.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found

    def _read(self) -> Iterator[Metric]:
        s, now = self.session, self.now
        done = s.scalar(select(func.count()).select_from(HumanTask)
                        .where(HumanTask.state == TaskStatus.COMPLETED)) or 0
        yield CounterMetricFamily("asb_task_completions", "Human tasks completed, ever.",
                                  value=done)
        oldest_timer = s.scalar(select(func.min(ProcessInstance.next_timer_at))
                                .where(ProcessInstance.next_timer_at <= now))
        oldest_retry = s.scalar(select(func.min(ProcessInstance.next_retry_at))
                                .where(ProcessInstance.next_retry_at <= now))
        due = [t for t in (oldest_timer, oldest_retry) if t is not None]
        lag = max((now - min(due)).total_seconds(), 0.0) if due else 0.0
        yield GaugeMetricFamily("asb_timer_lag_seconds",
                                "Now minus the oldest due timer or retry not yet fired.",
                                value=lag)
        depth = GaugeMetricFamily("asb_queue_depth", "Work due now that a worker would pick up.",
                                  labels=["queue"])
        depth.add_metric(["timers"], s.scalar(select(func.count()).select_from(ProcessInstance)
                                              .where(ProcessInstance.next_timer_at <= now)) or 0)
        depth.add_metric(["retries"], s.scalar(select(func.count()).select_from(ProcessInstance)
                                               .where(ProcessInstance.next_retry_at <= now)) or 0)
        depth.add_metric(["outbox"], s.scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.HELD]),
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
                or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now))) or 0)
        yield depth
        incidents = s.scalar(select(func.count()).select_from(Incident)
                             .where(Incident.status == IncidentStatus.OPEN)) or 0
        yield GaugeMetricFamily("asb_incidents_open", "Incidents waiting for a retry or a person.",
                                value=incidents)
        age, alive = worker_state(s, now)
        yield GaugeMetricFamily("asb_worker_last_run_age_seconds",
                                "Seconds since any worker last ran (+Inf: none ever has).",
                                value=float("inf") if age is None else age)
        yield GaugeMetricFamily("asb_workers_alive", "Workers that ran within two minutes.",
                                value=alive)
