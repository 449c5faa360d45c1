"""The locust scenario: officers work their inboxes, managers read their figures.

Run by bench/load/runner.py (``locust -f`` with ``ASB_LOAD_PLAN`` naming the JSON work plan
that the runner wrote). Every request is logged as one JSON line (name, status, milliseconds)
and every task completion the server accepted as a ``completed`` line, for the checks.
Each user connects from its own loopback address (127.0.0.x), as people sit at their own
machines, so the per-address sign-in throttle sees one sign-in per address.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import secrets
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task
from requests.adapters import HTTPAdapter

PLAN: dict[str, Any] = json.loads(Path(os.environ["ASB_LOAD_PLAN"]).read_text(encoding="utf-8"))
LOG = open(os.environ["ASB_LOAD_LOG"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - whole run
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_numbers = itertools.count(0)
_officer_numbers = itertools.count(0)
_manager_numbers = itertools.count(0)
SQLISH = "ASB-2026-000001' OR '1'='1' --"
FAULTS = os.environ.get("ASB_LOAD_FAULTS") == "1"
STORE_FULL_TEXT = "The evidence store is full or unavailable"


def tiny_pdf(token: str) -> bytes:
    """A small valid one-page PDF carrying ``token`` (so every upload's content differs)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>"]
    out = bytearray(b"%PDF-1.4\n% load upload " + token.encode() + b"\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


@events.request.add_listener  # type: ignore[untyped-decorator]
def _log(request_type: str, name: str, response_time: float, response: Any = None,
         exception: Any = None, **_kw: Any) -> None:
    status = getattr(response, "status_code", 0) if response is not None else 0
    LOG.write(json.dumps({"n": name, "s": status, "ms": round(response_time, 2),
                          "t": round(time.time(), 3), "x": bool(exception)}) + "\n")


class _Source(HTTPAdapter):
    """Connect from one loopback address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _csrf(html: str) -> str:
    found = CSRF_RE.search(html)
    return (found.group(1) or found.group(2)) if found else ""


class _Person(HttpUser):
    abstract = True
    user_name = ""

    def sign_in(self, name: str) -> None:
        """Sign in through the sign-in page, from this user's own loopback address."""
        number = next(_numbers)
        self.client.mount("http://", _Source(f"127.0.{1 + number // 250}.{2 + number % 250}"))
        self.user_name = name
        page = self.client.get("/sign-in", name="sign-in form")
        answer = self.client.post("/sign-in", name="sign in", allow_redirects=False,
                                  data={"user_name": name, "password": PLAN["password"],
                                        "csrf_token": _csrf(page.text)})
        for _ in range(5 if FAULTS else 0):  # a fault may cut it short: try again, as people do
            if answer.status_code in (302, 303):
                break
            time.sleep(3)
            page = self.client.get("/sign-in", name="sign-in form")
            answer = self.client.post("/sign-in", name="sign in", allow_redirects=False,
                                      data={"user_name": name, "password": PLAN["password"],
                                            "csrf_token": _csrf(page.text)})
        self.token = _csrf(self.client.get("/", name="home").text)

    def hostile(self, method: str, path: str, label: str, **kwargs: Any) -> None:
        """A malformed or hostile request: anything but a 4xx is a failure."""
        with self.client.request(method, path, name=f"hostile: {label}", allow_redirects=False,
                                 catch_response=True, **kwargs) as response:
            if 400 <= response.status_code < 500:
                response.success()
            else:
                response.failure(f"hostile request answered {response.status_code}")


class Officer(_Person):
    """Works the tasks in their inbox, opens case files, saves notes on task forms."""

    fixed_count = int(os.environ.get("ASB_LOAD_OFFICERS", "50"))
    wait_time = between(1, 5)

    def on_start(self) -> None:
        number = next(_officer_numbers)
        officers = PLAN["officers"]
        name = officers[number % len(officers)]
        sharing = (PLAN["officer_users"] + len(officers) - 1) // len(officers)
        slot = number // len(officers)
        self.todo = list(PLAN["tasks"].get(name, []))[slot::max(sharing, 1)]
        self.cases = PLAN["cases"].get(name, []) or ["ASB-2026-000001"]
        self.sign_in(name)

    @task(4)
    def inbox(self) -> None:
        self.client.get("/inbox", name="officer: inbox")

    @task(3)
    def complete_task(self) -> None:
        if not self.todo:
            self.inbox()
            return
        job = self.todo.pop(0)
        page = self.client.get(f"/tasks/{job['task']}", name="officer: task page")
        if page.status_code != 200:
            return
        data = {**job["form"], "csrf_token": _csrf(page.text) or self.token}
        with self.client.post(f"/tasks/{job['task']}", data=data, name="officer: complete task",
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code in (302, 303):
                LOG.write(json.dumps({"completed": job["task"], "by": self.user_name,
                                      "t": round(time.time(), 3)}) + "\n")
            elif response.status_code in (409, 422):
                response.success()  # changed meanwhile (a timer, a colleague): a fair answer
                LOG.write(json.dumps({"refused": job["task"], "s": response.status_code}) + "\n")

    @task(2)
    def case_file(self) -> None:
        self.client.get(f"/cases/{random.choice(self.cases)}",  # noqa: S311 # nosec B311
                        name="officer: case file")

    @task(1)
    def note(self) -> None:
        """A note on a task: the task form saved as a draft (there is no separate contact log)."""
        if not self.todo:
            return
        job = self.todo[-1]
        page = self.client.get(f"/tasks/{job['task']}", name="officer: task page")
        if page.status_code != 200:
            return
        self.client.post(f"/tasks/{job['task']}", name="officer: save note (draft)",
                         data={**job["form"], "action": "save_draft",
                               "csrf_token": _csrf(page.text)})

    @task(1 if FAULTS else 0)
    def upload(self) -> None:
        """A small PDF of evidence on one of their cases, through the upload form (--faults)."""
        reference = random.choice(self.cases)  # noqa: S311 # nosec B311
        page = self.client.get(f"/cases/{reference}/evidence/new", name="officer: upload form")
        if page.status_code != 200:
            return
        token = secrets.token_hex(8)
        data = tiny_pdf(token)
        with self.client.post(f"/cases/{reference}/evidence", name="officer: upload evidence",
                              data={"kind": "document", "description": f"load upload {token}",
                                    "csrf_token": _csrf(page.text)},
                              files={"file": ("statement.pdf", data, "application/pdf")},
                              allow_redirects=False, catch_response=True) as response:
            status = response.status_code
            if status in (302, 303):
                outcome = "accepted"
            elif status == 503 and STORE_FULL_TEXT in response.text:
                outcome = "refused"
                response.success()  # the store is full: a fair answer, the form shown again
            elif status == 503:
                outcome = "unavailable"
            else:
                outcome = "dropped" if status == 0 else "error"
            LOG.write(json.dumps({"upload": token, "outcome": outcome, "s": status,
                                  "case": reference, "by": self.user_name, "size": len(data),
                                  "t": round(time.time(), 3)}) + "\n")

    @task(1)
    def search(self) -> None:
        self.client.get(f"/cases?q={random.choice(self.cases)[:8]}",  # noqa: S311 # nosec B311
                        name="officer: case search")

    @task(1)
    def attack(self) -> None:
        job = self.todo[0] if self.todo else None
        choice = random.randrange(5)  # noqa: S311 # nosec B311
        if choice == 0:
            self.hostile("GET", "/tasks/00000000-0000-0000-0000-not-a-task", "bad task id")
        elif choice == 1:
            self.hostile("GET", f"/cases/{SQLISH}", "SQL-ish case reference")
        elif choice == 2 and job:
            self.hostile("POST", f"/tasks/{job['task']}", "missing CSRF", data=job["form"])
        elif choice == 3:
            self.hostile("GET", "/instances?status=running' OR 1=1 --", "officer on manager page")
        else:
            self.hostile("POST", f"/cases/{self.cases[0]}/actions", "oversized stage field",
                         data={"stage": "x" * 200_000, "csrf_token": self.token})


class Manager(_Person):
    """Reads the dashboard, the instance list with filters and a CSV export."""

    fixed_count = int(os.environ.get("ASB_LOAD_MANAGERS", "5"))
    wait_time = between(2, 8)

    def on_start(self) -> None:
        self.sign_in(PLAN["managers"][next(_manager_numbers) % len(PLAN["managers"])])

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/dashboard", name="manager: dashboard")

    @task(3)
    def instances(self) -> None:
        query = random.choice(("status=running&process=asb_case",  # noqa: S311 # nosec B311
                               "status=running", "process=asb_case&page=2",
                               "status=completed&process=asb_case"))
        self.client.get(f"/instances?{query}", name="manager: instance list (filtered)")

    @task(1)
    def figure(self) -> None:
        self.client.get("/dashboard/cases?figure=overdue_tasks", name="manager: figure cases")

    @task(1)
    def export(self) -> None:
        figure = random.choice(("open_priority", "workload", "overdue_tasks"))  # noqa: S311 # nosec B311
        self.client.get(f"/dashboard/{figure}.csv", name="manager: CSV export")

    @task(1)
    def attack(self) -> None:
        choice = random.randrange(3)  # noqa: S311 # nosec B311
        if choice == 0:
            self.hostile("GET", "/dashboard/no_such_figure.csv", "unknown CSV figure")
        elif choice == 1:
            self.hostile("POST", "/dashboard/refresh", "missing CSRF")
        else:
            self.hostile("GET", "/instances/999999999", "bad instance id")
