"""Object-level access: every query in web/ that loads case data names its guard, and a user
of another team meets 404 on every route that takes a case, task or evidence id.

``test_every_query_that_loads_case_data_names_its_guard`` reads web/ (AST): each call of
``select(Model...)``, ``session.get(Model, ...)`` or a loader from cases/ for the models below
must be on ALLOWED with the reason it is scoped, so a new unscoped query fails here until
someone decides. The walk reuses the role-by-route fixture (tests/web/test_route_roles.py).
"""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

import pytest

from tests.web.test_route_roles import _build, _client, _path

WEB = Path(__file__).resolve().parents[2] / "web"
MODELS = {"Case", "HumanTask", "Person", "EvidenceItem", "Referral", "ProcessInstance",
          "CaseReview", "Complaint"}
LOADERS = {"case_by_reference", "find_people", "find_related_open_cases"}

VIEW = "the caller's case passed can_view_case first (viewable_case / visible_case)"
MANAGER = "manager-only blueprint (roles_required(MANAGER))"
# "file:function:Model" -> the guard that scopes it.
ALLOWED: dict[str, str] = {
    "access.py:visible_cases:Case": "is the scope itself: case_filter(user)",
    "access.py:actionable_tasks:Case": "is the scope itself: case_filter(user) / own team",
    "access.py:actionable_tasks:HumanTask": "is the scope itself: own, role and visible cases",
    "api/cases.py:case_tasks:HumanTask": VIEW,
    "api/common.py:visible_case:Case": "can_view_case, else 404",
    "api/common.py:case_of:Case": "only after a task load; visible_task checks can_view_task",
    "api/common.py:visible_task:HumanTask": "can_view_task, else 404",
    "api/tasks.py:list_tasks:HumanTask": "assignee == caller, or actionable_tasks(user)",
    "manager/instance_actions.py:reassign:HumanTask": MANAGER,
    "manager/instance_heatmap.py:heatmaps:ProcessInstance": MANAGER + ", counts only",
    "manager/instance_list.py:_rows:Case": MANAGER,
    "manager/instance_list.py:_rows:HumanTask": MANAGER,
    "manager/instance_list.py:_rows:ProcessInstance": MANAGER,
    "manager/instance_list.py:instance_query:ProcessInstance": MANAGER,
    "manager/instances.py:instance_or_404:ProcessInstance": MANAGER,
    "manager/instances.py:diagram:HumanTask": MANAGER,
    "manager/task_figures.py:cases_with_tasks:Case": MANAGER + " (dashboard)",
    "manager/task_figures.py:cases_with_tasks:HumanTask": MANAGER + " (dashboard)",
    "officer/case_access.py:find_case:Case":
        "returns to viewable_case (can_view_case or audited break-glass) or can_view_case",
    "officer/casework.py:casework_of:Referral": VIEW,
    "officer/casework.py:casework_of:CaseReview": VIEW,
    "officer/casework.py:casework_of:Complaint": VIEW,
    "officer/challenges.py:reviews:CaseReview": "roles_required(TEAM_LEADER, MANAGER)",
    "officer/challenges.py:complaints:Complaint": "roles_required(TEAM_LEADER, MANAGER)",
    "officer/challenges.py:_open_tasks:HumanTask":
        "review/complaint pages: team leaders and managers only (READERS)",
    "officer/evidence.py:download:EvidenceItem": VIEW + "; item.case_id must match",
    "officer/process_view.py:outlines:HumanTask": VIEW,
    "officer/process_view.py:outlines:ProcessInstance": VIEW,
    "officer/queues.py:inbox_query:HumanTask": "view_condition(user, view) scopes every tab",
    "officer/queues.py:task_types:HumanTask": "task names and titles only, no case data",
    "officer/stages_view.py:start:HumanTask": "after _own_case (can_view_case, own team)",
    "officer/task_page.py:_submitted:ProcessInstance": "after page_task (can_view_task)",
    "officer/timeline.py:tasks_of:HumanTask": VIEW,
    "officer/timeline.py:process_position:ProcessInstance": VIEW,
    "officer/work.py:page_task:HumanTask": "can_view_task, else 404",
    "officer/work.py:locked_task:HumanTask": "always after page_task (can_view_task)",
    "owner/migration.py:_move:ProcessInstance":
        "process owners/admins move instances of a version; no case data shown",
    "partner/__init__.py:_referral_of:Referral":
        "referral_for_agency(agency) first; the other lookup only names the refusal's audit",
    "partner/__init__.py:link:Referral": "the referral of the one-time link just redeemed",
    "privacy/__init__.py:search:find_people": "privacy blueprint: managers and admins only",
    "privacy/__init__.py:_held_cases:Case": "privacy blueprint: managers and admins only",
    "privacy/__init__.py:_case_from_form:case_by_reference":
        "privacy blueprint: managers and admins only",
    "cli_privacy.py:dispose:case_by_reference": "asb CLI: the server's operator, not the web",
    "reporter/access.py:refuse:Case": "audits a refused attempt; shows nothing of the case",
}


def _target(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name in LOADERS:
        return str(name)
    if name not in ("select", "get", "get_one") or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Attribute):
        first = first.value
    return first.id if isinstance(first, ast.Name) and first.id in MODELS else None


def query_sites() -> set[str]:
    """Every ``file:function:Model`` in web/ that loads one of MODELS."""
    found = set()
    for path in sorted(WEB.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owner: dict[int, str] = {}
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    owner[id(node)] = fn.name  # inner functions come later and win
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (target := _target(node)) is not None:
                where = owner.get(id(node), "<module>")
                found.add(f"{path.relative_to(WEB).as_posix()}:{where}:{target}")
    return found


def test_every_query_that_loads_case_data_names_its_guard():
    sites = query_sites()
    assert sites - set(ALLOWED) == set(), "new queries: add each to ALLOWED with its guard"
    assert set(ALLOWED) - sites == set(), "ALLOWED names queries that are gone: remove them"


def test_the_scan_finds_an_unscoped_query():
    tree = ast.parse("def leak(ref):\n    return db().get(Case, ref)\n")
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and _target(n))
    assert _target(call) == "Case"


# -- the walk -----------------------------------------------------------------------------

OBJECT = re.compile(r"<(?:\w+:)?(reference|task_id|item_id|message_id|referral_id|action_id|"
                    r"review_ref|complaint_ref|instance_id)>")
MISSING = {"reference": "ASB-2026-999999", "task_id": str(uuid.UUID(int=1)),
           "item_id": "999998", "message_id": "999998", "referral_id": "999998",
           "action_id": "999998", "review_ref": "CR-2026-9999", "complaint_ref": "CMP-2026-9999",
           "instance_id": "999998"}
# Routes where another team's user is not refused, by design (and why).
BY_DESIGN = {
    "/cases/<reference>/break-glass":
        "any officer or team leader may ask, with a reason, to open a case; audited",
    "/case-reviews/<review_ref>": "team leaders run every ASB Case Review, council-wide",
    "/complaints/<complaint_ref>": "team leaders handle every complaint, council-wide",
    "/complaints/<complaint_ref>/extension": "as the complaint page",
    "/complaints/<complaint_ref>/escalation": "as the complaint page",
}


def object_routes(app) -> list[tuple[str, str]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/static/") or not OBJECT.search(rule.rule):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rules.append((method, rule.rule))
    return sorted(rules, key=lambda r: (r[0] == "POST", r))


@pytest.mark.parametrize("who", ["sam", "tom"])
def test_another_team_meets_404_on_every_object_route_as_if_it_did_not_exist(tmp_path, who):
    fixture = _build(tmp_path)
    api = fixture.api
    client, csrf = _client(api, who)
    wrong = {}
    routes = object_routes(api.app)
    assert len(routes) >= 30 and set(BY_DESIGN) <= {rule for _, rule in routes}
    for method, rule in routes:
        if rule in BY_DESIGN:
            continue
        got = []
        for values in (fixture.values, {**fixture.values, **MISSING}):
            path = _path(rule, values)
            if rule.startswith("/api/"):
                kw = {"headers": api.headers(who)}
                if method == "POST":
                    kw["json"] = {}
            else:
                kw = {"data": {"csrf_token": csrf}} if method == "POST" else {}
            response = client.open(path, method=method, **kw)
            got.append(response.status_code)
            response.close()
        real, missing = got
        if real != missing or real not in (403, 404):
            wrong[(method, rule)] = (real, missing)
    assert wrong == {}, f"{who}: (status with the real id, with an unknown id)"
