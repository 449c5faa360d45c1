"""Authentication, CSRF for browser sessions, and which role gets what on every route."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeTimedSerializer

from engine import clock
from tests.api.support import BPMN, PEOPLE, XMAS_EVE, error_of, make_api, report

ASSESSMENT = {"harm": "low", "community_impact": "low"}
INCIDENT = {"occurred_at": "2026-12-24T09:00:00Z", "location": "14 Mill Lane",
            "description": "Again"}


def _calls(ref, task, draft):
    """Every API route once, in an order that keeps later calls meaningful."""
    draft_xml = (BPMN / "closure.bpmn").read_bytes().replace(b"Close the case", b"Close: now")
    return [
        ("get_case", "GET", f"/api/v1/cases/{ref}", {}),
        ("case_tasks", "GET", f"/api/v1/cases/{ref}/tasks", {}),
        ("tasks", "GET", "/api/v1/tasks", {}),
        ("inbox", "GET", "/api/v1/tasks?assignee=me&state=open", {}),
        ("get_task", "GET", f"/api/v1/tasks/{task}", {}),
        ("claim", "POST", f"/api/v1/tasks/{task}/claim", {}),
        ("complete", "POST", f"/api/v1/tasks/{task}/complete", {"json": {"data": ASSESSMENT}}),
        ("incident", "POST", f"/api/v1/cases/{ref}/incidents", {"json": INCIDENT}),
        ("open_case", "POST", "/api/v1/cases", {"json": report()}),
        ("upload", "POST", "/api/v1/diagrams",
         {"data": draft_xml, "headers": {"Content-Type": "application/xml"}}),
        ("get_diagram", "GET", f"/api/v1/diagrams/{draft}", {}),
        ("publish", "POST", f"/api/v1/diagrams/{draft}/publish", {}),
    ]


OK = 200
EXPECTED = {  # who: {call: status}; calls left out answer 2xx
    "olivia": {"upload": 403, "get_diagram": 403, "publish": 403},
    "oscar": {"claim": 409, "complete": 403, "upload": 403, "get_diagram": 403,
              "publish": 403},
    "tara": {"claim": 409, "upload": 403, "get_diagram": 403, "publish": 403},
    "sam": {"get_case": 404, "case_tasks": 404, "get_task": 404, "claim": 404,
            "complete": 404, "incident": 404, "upload": 403, "get_diagram": 403,
            "publish": 403},
    "maria": {"claim": 403, "complete": 403, "upload": 403, "publish": 403},
    "adam": {"claim": 403, "complete": 403},
    "petra": {"get_case": 404, "case_tasks": 404, "get_task": 404, "claim": 404,
              "complete": 404, "incident": 404, "open_case": 403},
}
EXPECTED["tom"] = EXPECTED["sam"]
EXPECTED["paul"] = {**EXPECTED["sam"], "open_case": 403}


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_every_route_with_every_role(tmp_path, who):
    clock.set_now(XMAS_EVE)
    api = make_api(tmp_path)
    ref = api.open_case()["reference"]
    task = api.open_task(ref, "assess_risk")["id"]
    draft_xml = (BPMN / "closure.bpmn").read_bytes().replace(b"Close the case", b"Closing")
    draft = api.post("/api/v1/diagrams", "petra", data=draft_xml,
                     headers={"Content-Type": "application/xml"}).get_json()["id"]
    got = {}
    for name, method, path, kw in _calls(ref, task, draft):
        kw = dict(kw)
        headers = {**api.headers(who), **kw.pop("headers", {})}
        got[name] = api.client().open(path, method=method, headers=headers, **kw).status_code
    want = EXPECTED[who]
    for name, status in got.items():
        if name in want:
            assert status == want[name], (who, name, status)
        else:
            assert 200 <= status < 300, (who, name, status)


def test_no_token_and_bad_tokens_are_401_on_every_route_and_change_nothing(api):
    ref = api.open_case()["reference"]
    task = api.open_task(ref, "assess_risk")["id"]
    before = api.counts()
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic eDp5"},
                    {"Authorization": "Bearer"}, {"Authorization": "Bearer " + "x" * 5000}):
        for name, method, path, kw in _calls(ref, task, 1):
            kw = dict(kw)
            kw_headers = {**headers, **kw.pop("headers", {})}
            response = api.client().open(path, method=method, headers=kw_headers, **kw)
            error_of(response, 401, "unauthorized")
            assert name
    assert api.counts() == before


def test_a_revoked_token_is_401(api):
    from cases.people import revoke_token
    from web.extensions import unit

    with api.app.app_context(), unit() as session:
        assert revoke_token(session, api.tokens["olivia"])
    error_of(api.get("/api/v1/tasks"), 401, "unauthorized")


def _signed_in(tmp_path, who="olivia"):
    api = make_api(tmp_path, SESSION_COOKIE_SECURE=False)
    from cases.people import find_user
    from web.extensions import unit

    with api.app.app_context(), unit() as session:
        uid = find_user(session, who).id
    client = api.client()
    now = clock.now().isoformat()
    with client.session_transaction() as sess:
        sess.update(uid=uid, sid="s", started=now, seen=now, csrf_token="raw-token")
    signed = URLSafeTimedSerializer("test-only-key", salt="wtf-csrf-token").dumps("raw-token")
    return api, client, signed


def test_a_browser_session_reads_freely_but_must_send_the_csrf_token_to_change(tmp_path):
    clock.set_now(datetime(2026, 12, 24, 10, 0, tzinfo=UTC))
    api, client, csrf = _signed_in(tmp_path)
    assert client.get("/api/v1/tasks?assignee=me").status_code == 200
    before = api.counts()
    response = client.post("/api/v1/cases", json=report())
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"
    assert api.counts() == before
    response = client.post("/api/v1/cases", json=report(), headers={"X-CSRFToken": csrf})
    assert response.status_code == 201


def test_routing_errors_under_the_api_answer_json(api):
    error_of(api.get("/api/v1/no-such-thing"), 404, "not_found")
    error_of(api.client().put("/api/v1/cases", headers=api.headers("olivia")), 405,
             "method_not_allowed")
