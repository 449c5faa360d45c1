"""Every HTML route with every role (and no one signed in): the allowed set, exactly.

The table below is the access policy of the pages written out in full. A route added to the
app without a row here fails ``test_the_table_covers_every_page_route``, so no page can ship
without someone deciding who may open it. The API has its own walk in tests/api/test_access.py.

Statuses: 200 a page; 302 a redirect (sign-in for strangers, the inbox after a claim); 400
a form refused (a POST with no fields, or a stranger's POST with no session to check its
CSRF token against); 403 the wrong role; 404 a case or task the caller may not know exists;
409 a task already held by someone else; 422 a task form refused field by field.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.evidence import EvidenceItem
from cases.outbox import MessageChannel, OutboxMessage
from cases.people import PartnerAgency, User
from cases.records import Case
from engine import clock
from engine.models import ProcessInstance
from tasks.case_review import apply_for_case_review
from tasks.complaints import make_complaint
from tests.api.support import PEOPLE, XMAS_EVE, Api, make_api, report
from web.extensions import unit

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# Column order of every row. The case is a North-team case in St Helen's, worked by olivia:
# oscar is in her team; sam and tom are the South team; paul is a police partner.
WHO = ("anon", "olivia", "oscar", "sam", "tara", "tom", "maria", "adam", "petra", "paul")
SIGN_IN = 302   # a stranger is sent to sign in
HOME = 302      # a signed-in user is sent to their workspace

# (method, rule): statuses in WHO order.
POLICY: dict[tuple[str, str], tuple[int, ...]] = {
    # Public pages.
    ("GET", "/accessibility"): (200,) * 10,
    ("GET", "/cookies"): (200,) * 10,
    ("GET", "/privacy"): (200,) * 10,
    ("GET", "/healthz"): (200,) * 10,
    ("GET", "/readyz"): (200,) * 10,
    ("GET", "/metrics"): (200,) * 10,  # the test client calls from 127.0.0.1
    ("GET", "/sign-in"): (200,) + (HOME,) * 9,
    ("POST", "/sign-in"): (400,) * 10,
    # The second sign-in step: with no password just accepted, back to the sign-in page (or
    # home, for someone signed in already).
    ("GET", "/sign-in/code"): (302,) * 10,
    ("POST", "/sign-in/code"): (400,) + (302,) * 9,
    ("GET", "/sign-in/set-up"): (302,) * 10,
    ("POST", "/sign-in/set-up"): (400,) + (302,) * 9,
    ("GET", "/account/password"): (SIGN_IN,) + (200,) * 9,
    ("POST", "/account/password"): (400,) * 10,
    ("GET", "/account/sessions"): (SIGN_IN,) + (200,) * 9,
    ("POST", "/account/sessions/sign-out-others"): (400,) + (302,) * 9,
    ("GET", "/account/recovery-codes"): (SIGN_IN,) + (200,) * 9,
    ("POST", "/account/recovery-codes"): (400,) * 10,
    ("GET", "/"): (SIGN_IN,) + (HOME,) * 9,
    # Workspaces.
    ("GET", "/inbox"): (SIGN_IN, 200, 200, 200, 200, 200, 200, 403, 403, 403),
    ("GET", "/inbox/counts.json"): (401, 200, 200, 200, 200, 200, 200, 403, 403, 403),
    ("GET", "/dashboard"): (SIGN_IN, 403, 403, 403, 403, 403, 200, 403, 403, 403),
    # The cases behind a figure: with no figure named, the manager's request is refused (400).
    ("POST", "/dashboard/refresh"): (400, 403, 403, 403, 403, 403, 302, 403, 403, 403),
    ("GET", "/dashboard/cases"): (SIGN_IN, 403, 403, 403, 403, 403, 400, 403, 403, 403),
    ("GET", "/dashboard/<figure>.csv"): (SIGN_IN, 403, 403, 403, 403, 403, 200, 403, 403, 403),
    # The audit trail: managers and admins.
    ("GET", "/audit"): (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 403, 403),
    ("GET", "/audit/export.csv"): (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 403, 403),
    ("GET", "/audit/alerts"): (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 403, 403),
    # Privacy (managers and admins): a POST with no fields is refused (400).
    ("GET", "/privacy/subject-access"): (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 403, 403),
    ("POST", "/privacy/subject-access"): (400, 403, 403, 403, 403, 403, 400, 400, 403, 403),
    ("POST", "/privacy/subject-access/export"):
        (400, 403, 403, 403, 403, 403, 400, 400, 403, 403),
    ("GET", "/privacy/retention"): (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 403, 403),
    ("POST", "/privacy/retention/hold"): (400, 403, 403, 403, 403, 403, 400, 400, 403, 403),
    ("POST", "/privacy/retention/release"): (400, 403, 403, 403, 403, 403, 400, 400, 403, 403),
    ("POST", "/privacy/retention/dispose"): (400, 403, 403, 403, 403, 403, 400, 400, 403, 403),
    ("GET", "/diagrams"): (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 200, 403),
    ("GET", "/diagrams/dry-run"): (SIGN_IN, 403, 403, 403, 403, 403, 403, 200, 200, 403),
    ("POST", "/diagrams/dry-run"): (400, 403, 403, 403, 403, 403, 403, 400, 400, 403),
    # The process owner's workspace: managers read it (403 on pages that change diagrams);
    # process owners and admins edit, publish and move cases. A POST with nothing but the
    # CSRF token: a form refused (400), or not XML for the editor's calls (415). The version
    # is the one the fixture's case runs on, already published (so publishing it is refused).
    ("GET", "/diagrams/upload"): (SIGN_IN, 403, 403, 403, 403, 403, 403, 200, 200, 403),
    ("POST", "/diagrams/upload"): (400, 403, 403, 403, 403, 403, 403, 400, 400, 403),
    ("POST", "/diagrams/drafts"): (400, 403, 403, 403, 403, 403, 403, 415, 415, 403),
    ("POST", "/diagrams/check"): (400, 403, 403, 403, 403, 403, 403, 415, 415, 403),
    ("GET", "/diagrams/processes/<process_id>"):
        (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 200, 403),
    ("GET", "/diagrams/versions/<int:version_id>"):
        (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 200, 403),
    ("GET", "/diagrams/versions/<int:version_id>/source"):
        (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 200, 403),
    ("GET", "/diagrams/versions/<int:version_id>/edit"):
        (SIGN_IN, 403, 403, 403, 403, 403, 403, 200, 200, 403),
    ("GET", "/diagrams/versions/<int:version_id>/publish"):
        (SIGN_IN, 403, 403, 403, 403, 403, 403, 200, 200, 403),
    ("POST", "/diagrams/versions/<int:version_id>/publish"):
        (400, 403, 403, 403, 403, 403, 403, 400, 400, 403),
    ("GET", "/diagrams/versions/<int:version_id>/migrate"):
        (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 200, 403),
    ("POST", "/diagrams/versions/<int:version_id>/migrate"):
        (400, 403, 403, 403, 403, 403, 403, 400, 400, 403),
    ("GET", "/diagrams/decisions/<decision_id>"):
        (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 200, 403),
    ("GET", "/diagrams/decisions/<decision_id>/source"):
        (SIGN_IN, 403, 403, 403, 403, 403, 200, 200, 200, 403),
    ("GET", "/diagrams/decisions/<decision_id>/edit"):
        (SIGN_IN, 403, 403, 403, 403, 403, 403, 200, 200, 403),
    ("GET", "/admin"): (SIGN_IN, 403, 403, 403, 403, 403, 403, 200, 403, 403),
    # The case file and what hangs off it.
    ("GET", "/cases"): (SIGN_IN, 200, 200, 200, 200, 200, 200, 403, 403, 403),
    ("GET", "/cases/<reference>"): (SIGN_IN, 200, 200, 404, 200, 404, 200, 403, 403, 403),
    ("GET", "/cases/<reference>/break-glass"):
        (SIGN_IN, 200, 200, 200, 200, 200, 403, 403, 403, 403),
    ("POST", "/cases/<reference>/break-glass"):
        (400, 400, 400, 400, 400, 400, 403, 403, 403, 403),
    ("GET", "/cases/<reference>/process"): (SIGN_IN, 200, 200, 404, 200, 404, 200, 403, 403, 403),
    ("GET", "/cases/<reference>/actions"): (SIGN_IN, 200, 200, 404, 200, 404, 403, 403, 403, 403),
    ("POST", "/cases/<reference>/actions"): (400, 400, 400, 404, 400, 404, 403, 403, 403, 403),
    ("GET", "/cases/<reference>/letters/<int:message_id>"):
        (SIGN_IN, 200, 200, 404, 200, 404, 200, 403, 403, 403),
    ("GET", "/cases/<reference>/letters/<int:message_id>.pdf"):
        (SIGN_IN, 200, 200, 404, 200, 404, 200, 403, 403, 403),
    ("GET", "/cases/<reference>/evidence/new"):
        (SIGN_IN, 200, 200, 404, 200, 404, 403, 403, 403, 403),
    ("POST", "/cases/<reference>/evidence"): (400, 400, 400, 404, 400, 404, 403, 403, 403, 403),
    ("GET", "/cases/<reference>/evidence/<int:item_id>"):
        (SIGN_IN, 200, 200, 404, 200, 404, 200, 403, 403, 403),
    # Disclosure packs: the case officer, a team leader who sees the case and managers.
    ("GET", "/cases/<reference>/disclosure"):
        (SIGN_IN, 200, 403, 404, 200, 404, 200, 403, 403, 403),
    ("POST", "/cases/<reference>/disclosure/preview"):
        (400, 400, 403, 404, 400, 404, 400, 403, 403, 403),
    ("POST", "/cases/<reference>/disclosure/download"):
        (400, 400, 403, 404, 400, 404, 400, 403, 403, 403),
    ("GET", "/reports/new"): (SIGN_IN, 200, 200, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/reports/new"): (400, 400, 400, 400, 400, 400, 400, 403, 403, 403),
    # Tasks: the assessment task is olivia's; the team leader may act on her team's tasks.
    # Managers read every case's tasks; they act only on their own (stage 2 complaints).
    ("GET", "/tasks/<task_id>"): (SIGN_IN, 200, 200, 404, 200, 404, 200, 403, 403, 403),
    ("POST", "/tasks/<task_id>"): (400, 422, 403, 404, 422, 404, 403, 403, 403, 403),
    ("POST", "/tasks/<task_id>/claim"): (400, 302, 409, 404, 409, 404, 403, 403, 403, 403),
    ("POST", "/tasks/<task_id>/release"): (400, 302, 403, 404, 302, 404, 403, 403, 403, 403),
    ("POST", "/tasks/<task_id>/assign"): (400, 403, 403, 403, 400, 404, 403, 403, 403, 403),
    ("POST", "/sign-out"): (400,) + (302,) * 9,
    # ASB Case Reviews and complaints: team leaders and managers run them and see every one;
    # officers record them (from the phone or the counter) but may not read them.
    ("GET", "/case-reviews"): (SIGN_IN, 403, 403, 403, 200, 200, 200, 403, 403, 403),
    ("GET", "/case-reviews/new"): (SIGN_IN, 200, 200, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/case-reviews/new"): (400, 400, 400, 400, 400, 400, 400, 403, 403, 403),
    ("GET", "/case-reviews/<review_ref>"): (SIGN_IN, 403, 403, 403, 200, 200, 200, 403, 403, 403),
    ("GET", "/complaints"): (SIGN_IN, 403, 403, 403, 200, 200, 200, 403, 403, 403),
    ("GET", "/complaints/new"): (SIGN_IN, 200, 200, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/complaints/new"): (400, 400, 400, 400, 400, 400, 400, 403, 403, 403),
    ("GET", "/complaints/<complaint_ref>"): (SIGN_IN, 403, 403, 403, 200, 200, 200, 403, 403, 403),
    # Stage 1 is not yet acknowledged: nothing can be extended or escalated (a re-shown page).
    ("POST", "/complaints/<complaint_ref>/extension"):
        (400, 403, 403, 403, 400, 400, 400, 403, 403, 403),
    ("POST", "/complaints/<complaint_ref>/escalation"):
        (400, 403, 403, 403, 400, 400, 400, 403, 403, 403),
    # The partner door: partners only. No referral, action or link exists in the fixture, so
    # paul meets 404 there (tests/partner cover his own agency's); a bad link is 404 for all.
    ("GET", "/partner"): (SIGN_IN, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("GET", "/partner/referrals/<int:referral_id>"):
        (SIGN_IN, 403, 403, 403, 403, 403, 403, 403, 403, 404),
    ("POST", "/partner/referrals/<int:referral_id>"):
        (400, 403, 403, 403, 403, 403, 403, 403, 403, 404),
    ("POST", "/partner/actions/<int:action_id>"):
        (400, 403, 403, 403, 403, 403, 403, 403, 403, 404),
    ("GET", "/partner/link/<token>"): (404,) * 10,
    # The reporters' door: public, no staff role needed. Without a reporter session (a code
    # or link) the case pages answer 401 to everyone; an unknown link is 404 for all.
    ("GET", "/report"): (200,) * 10,
    ("POST", "/report"): (400,) * 10,
    ("GET", "/follow"): (200,) * 10,
    ("POST", "/follow"): (400,) * 10,
    ("GET", "/follow/<key>"): (404,) * 10,
    ("GET", "/my-case"): (401,) * 10,
    ("POST", "/my-case/sign-out"): (400,) + (302,) * 9,
    **{(method, f"/my-case/{page}"): (401,) * 10 if method == "GET" else (400,) + (401,) * 9
       for page in ("incident", "diary", "evidence", "circumstances", "preferences",
                    "case-review", "complaint") for method in ("GET", "POST")},
    # The officer's controls of a reporter's access (a POST naming no action is refused).
    ("POST", "/cases/<reference>/reporter-access"):
        (400, 400, 400, 404, 400, 404, 403, 403, 403, 403),
    ("POST", "/cases/<reference>/reporter-access/revoke"):
        (400, 302, 302, 404, 302, 404, 403, 403, 403, 403),
}



def _admin(method: str, admin: int) -> tuple[int, ...]:
    """An admin-only page: strangers to sign in (or 400 without a session's CSRF token)."""
    return (SIGN_IN if method == "GET" else 400,) + (403,) * 6 + (admin,) + (403,) * 2


ADMIN_PAGES = {
    "/admin": {"GET": 200},
    "/admin/users": {"GET": 200},
    "/admin/users/new": {"GET": 200, "POST": 400},
    "/admin/users/<int:user_id>": {"GET": 200, "POST": 400},
    "/admin/users/<int:user_id>/disable": {"GET": 200, "POST": 400},
    "/admin/users/<int:user_id>/enable": {"POST": 302},
    "/admin/users/<int:user_id>/password": {"GET": 200, "POST": 200},
    "/admin/users/<int:user_id>/two-factor/reset": {"POST": 302},
    "/admin/users/<int:user_id>/sessions/revoke": {"POST": 302},
    "/admin/teams": {"GET": 200},
    "/admin/teams/new": {"GET": 200, "POST": 400},
    "/admin/teams/<int:team_id>": {"GET": 200, "POST": 400},
    "/admin/areas": {"GET": 200},
    "/admin/areas/new": {"GET": 200, "POST": 400},
    "/admin/agencies": {"GET": 200},
    "/admin/agencies/new": {"GET": 200, "POST": 400},
    "/admin/agencies/<int:agency_id>": {"GET": 200, "POST": 400},
    "/admin/configuration": {"GET": 200},
    "/admin/configuration/<key>": {"GET": 200, "POST": 400},
    # No value is scheduled in the fixture: even the admin finds nothing to withdraw.
    "/admin/configuration/<key>/<int:setting_id>/cancel": {"POST": 404},
}
POLICY.update({(method, rule): _admin(method, status)
               for rule, methods in ADMIN_PAGES.items() for method, status in methods.items()})


def _manager(method: str, manager: int) -> tuple[int, ...]:
    """A managers-only page (process instances): everyone else 403, even admins."""
    return (SIGN_IN if method == "GET" else 400,) + (403,) * 5 + (manager,) + (403,) * 3


# A POST with no reason is refused (400); no incident 999999 exists (404).
INSTANCE_PAGES = {
    "/instances": {"GET": 200},
    "/instances/<int:instance_id>": {"GET": 200},
    "/instances/<int:instance_id>/diagram.json": {"GET": 200},
    "/instances/<int:instance_id>/suspend": {"GET": 200, "POST": 400},
    "/instances/<int:instance_id>/resume": {"GET": 200, "POST": 400},
    "/instances/<int:instance_id>/cancel": {"GET": 200, "POST": 400},
    "/instances/<int:instance_id>/reassign": {"GET": 200, "POST": 400},
    "/instances/<int:instance_id>/incidents/<int:incident_id>/retry": {"GET": 404, "POST": 404},
    "/instances/heatmap": {"GET": 200},
    "/instances/heatmap/<int:version_id>": {"GET": 200},
    "/instances/heatmap/<int:version_id>.json": {"GET": 200},
}
POLICY.update({(method, rule): _manager(method, status)
               for rule, methods in INSTANCE_PAGES.items() for method, status in methods.items()})

NOT_PAGES = ("/api/", "/static/")


def _page_rules(api: Api) -> set[tuple[str, str]]:
    found = set()
    for rule in api.app.url_map.iter_rules():
        if rule.rule.startswith(NOT_PAGES):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.add((method, rule.rule))
    return found


@dataclass
class Fixture:
    api: Api
    values: dict[str, str]


def _build(tmp_path: Path) -> Fixture:
    clock.set_now(XMAS_EVE)
    api = make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))
    # A reporter who asked for letters: the acknowledgement is the letter these routes show.
    reporter = {**report()["reporter"], "contact_preferences": {"channels": ["letter"]}}
    ref = api.open_case(reporter=reporter)["reference"]
    task = api.open_task(ref, "assess_risk")["id"]
    with api.app.app_context(), unit() as session:
        letter = session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.case_reference == ref, OutboxMessage.channel == MessageChannel.LETTER))
    assert letter is not None
    olivia = _client(api, "olivia")
    photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = olivia[0].post(f"/cases/{ref}/evidence", data={
        "csrf_token": olivia[1], "kind": "photo", "description": "Graffiti on the door",
        "file": (io.BytesIO(photo), "door.png")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with api.app.app_context(), unit() as session:
        item_id = session.scalar(select(EvidenceItem.id).join(Case).where(Case.reference == ref))
    assert item_id is not None
    with api.app.app_context(), unit() as session:
        engine = api.app.extensions["asb"]["engine"]
        applicant = {"name": "Ann Applicant", "phone": "07700 900123"}
        review_ref = apply_for_case_review(
            session, engine, applicant=applicant, description="Nothing has changed",
            case_reference=ref, actor="olivia").reference
        complaint_ref = make_complaint(session, engine, complainant=applicant,
                                       about="No one called back", actor="olivia").reference
    with api.app.app_context(), unit() as session:
        olivia_user = session.scalars(select(User).where(User.name == "olivia")).one()
        team_id, agency_id = olivia_user.team_id, session.scalar(select(PartnerAgency.id))
        instance = session.scalars(select(ProcessInstance).where(
            ProcessInstance.business_key == ref).order_by(ProcessInstance.id)).first()
        assert instance is not None
        instance_id, version_id = instance.id, instance.definition_id
    return Fixture(api, {"reference": ref, "task_id": task, "message_id": str(letter),
                         "item_id": str(item_id), "user_id": str(olivia_user.id),
                         "team_id": str(team_id), "agency_id": str(agency_id),
                         "key": "retention_years", "setting_id": "999999",
                         "review_ref": review_ref, "complaint_ref": complaint_ref,
                         "instance_id": str(instance_id), "version_id": str(version_id),
                         "incident_id": "999999", "figure": "open_stage",
                         "referral_id": "999999", "action_id": "999999", "token": "no-link",
                         "process_id": "asb_case", "decision_id": "triage_priority"})


def _client(api: Api, who: str):  # type: ignore[no-untyped-def]
    client = api.app.test_client()
    if who == "anon":
        return client, ""
    with api.app.app_context(), unit() as session:
        uid = session.scalar(select(User.id).where(User.name == who))
    now = clock.now().isoformat()
    with client.session_transaction() as state:
        state.update(uid=uid, sid=f"walk-{who}", started=now, seen=now)
    found = CSRF_RE.search(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert found, f"no CSRF token on {who}'s home page"
    return client, found.group(1)


def _path(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)


def test_the_table_covers_every_page_route(tmp_path):
    api = make_api(tmp_path)
    served = _page_rules(api)
    assert served - set(POLICY) == set(), "pages with no access policy in POLICY"
    assert set(POLICY) - served == set(), "POLICY rows for pages the app no longer serves"
    assert set(WHO) - {"anon"} == set(PEOPLE)


# Requests that change something run last, in this order, so the reads see the case as built.
_ORDER = {"/sign-out": 9, "/tasks/<task_id>/assign": 3, "/tasks/<task_id>/release": 2,
          "/tasks/<task_id>/claim": 1}


@pytest.mark.parametrize("who", WHO)
def test_every_page_with_every_role(tmp_path, who):
    fixture = _build(tmp_path)
    client, csrf = _client(fixture.api, who)
    column = WHO.index(who)
    rows = sorted(POLICY, key=lambda key: (key[0] == "POST", _ORDER.get(key[1], 0), key))
    got: dict[tuple[str, str], int] = {}
    for method, rule in rows:
        path = _path(rule, fixture.values)
        data = {"csrf_token": csrf} if method == "POST" and csrf else {}
        response = client.open(path, method=method, data=data)
        got[(method, rule)] = response.status_code
        response.close()
        if response.status_code == 302 and who == "anon" and method == "GET":
            assert response.headers["Location"].startswith("/sign-in"), (rule, response.location)
    want = {key: statuses[column] for key, statuses in POLICY.items()}
    wrong = {key: (got[key], want[key]) for key in POLICY if got[key] != want[key]}
    assert wrong == {}, f"{who}: (got, wanted) per route"
