"""gunicorn settings: ``gunicorn -c gunicorn.conf.py web.wsgi:app`` (see docs/operations.md).

Every value can be changed from the environment; nothing here is secret. The access log has
no client address, query string or header: only method, path (secret link keys scrubbed),
status, size, time taken and the request id.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

# Request counts from every worker process are summed through files in this folder
# (prometheus multiprocess mode). It must be set before prometheus_client is imported.
_made_prometheus_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_prometheus_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="asb-prometheus-")
_PROMETHEUS_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])

bind = os.environ.get("ASB_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("ASB_WEB_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "sync"
timeout = int(os.environ.get("ASB_WEB_TIMEOUT", "60"))  # a stuck request's worker is replaced
graceful_timeout = 30  # on SIGTERM, requests in flight get this long to finish
keepalive = 5
max_requests = int(os.environ.get("ASB_WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# The heartbeat file of each worker: on tmpfs, so a slow disk cannot make gunicorn kill it
# (gunicorn makes its files there with mkstemp: no predictable names).
_SHM = "/dev/shm"  # noqa: S108  # nosec B108
worker_tmp_dir = os.environ.get("ASB_WORKER_TMP_DIR") or (_SHM if os.path.isdir(_SHM) else None)
# Trust X-Forwarded-Proto only from these addresses (the reverse proxy on this host).
forwarded_allow_ips = os.environ.get("ASB_FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips
# No control socket: one shared path would clash between two instances on one host.
control_socket_disable = True

accesslog = os.environ.get("ASB_ACCESS_LOG", "-") or None
# %(U)s is the path without its query string; no %(h)s (the client's address), no referer or
# user agent. The app's own "asb.request" log line carries the route template.
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("ASB_LOG_LEVEL", "info").lower()

if os.environ.get("ASB_LOG_FORMAT", "").lower() == "json":
    _json = {"()": "web.logging_setup.JsonFormatter"}
    logconfig_dict: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": _json, "generic": _json},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json",
                        "stream": "ext://sys.stderr"},
            "error_console": {"class": "logging.StreamHandler", "formatter": "json",
                              "stream": "ext://sys.stderr"},
        },
        "root": {"level": loglevel.upper(), "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"],
                               "propagate": False, "qualname": "gunicorn.error"},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"],
                                "propagate": False, "qualname": "gunicorn.access"},
        },
    }


def _on_sqlite() -> bool:
    url = os.environ.get("DATABASE_URL", "").strip()
    return not url or url.startswith("sqlite")


def on_starting(server: Any) -> None:
    """Refuse SQLite with several processes; start the metrics folder empty."""
    if _on_sqlite() and server.cfg.workers > 1:
        # On SQLite each process would start its own timer worker, and writers would queue
        # on one file lock: the embedded default is for one process (asb serve).
        server.log.error("asb: SQLite serves one web process: set DATABASE_URL to PostgreSQL, "
                         "or ASB_WEB_WORKERS=1")
        sys.exit(1)
    _PROMETHEUS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in _PROMETHEUS_DIR.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Drop the live gauges of a worker process that has gone."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(_PROMETHEUS_DIR))  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    """Remove the metrics folder this file made (one given from outside is left alone)."""
    if _made_prometheus_dir:
        shutil.rmtree(_PROMETHEUS_DIR, ignore_errors=True)
