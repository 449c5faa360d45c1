"""The managers' instance list, instance page, diagram JSON and heatmap, with known answers.

Cases are opened and worked through the API on the shipped processes (instances_support.py):
a (St Helen's, at first contact, overdue), b (Brimington, sam's), c (Walton, 28 Dec, oscar's),
the complaint (29 Dec), d (29 Dec, its officer assignment failed: an incident).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from engine import clock
from engine.models import Incident
from tests.manager.instances_support import FIRST_CONTACT_DUE, build_world
from tests.officer.support import audit_rows, browser
from web.extensions import unit
from web.manager import instance_list, instances

ROW_RE = re.compile(r'data-instance="(\d+)"')
HREF_RE = re.compile(r'href="(/instances\?[^"]*)"')
ALLOWED = set(instance_list.FIELDS) | {"after", "before"}


@pytest.fixture
def world(tmp_path):
    return build_world(tmp_path)


@pytest.fixture
def maria(world):
    return browser(world.api, "maria")


def _listed(maria, query: str = "") -> list[int]:
    page = maria.text(f"/instances{query}")
    return [int(i) for i in ROW_RE.findall(page)]


def _ids(world, *keys: str) -> list[int]:
    return [world.ids[k] for k in keys]


def test_the_list_shows_every_instance_newest_first_with_where_it_is(world, maria):
    page = maria.text("/instances")
    assert [int(i) for i in ROW_RE.findall(page)] == _ids(world, "d", "complaint", "c", "b", "a")
    row_a = page[page.index(f'data-instance="{world.ids["a"]}"'):]
    row_a = row_a[:row_a.index("</tr>")]
    for shown in (world.refs["a"], "ASB case", "Running", "Make first contact", "Overdue",
                  "Olivia Officer", "St Helen&#39;s", "24 Dec 2026, 10:00"):
        assert shown in row_a, shown
    row_d = page[page.index(f'data-instance="{world.ids["d"]}"'):]
    assert "Incident" in row_d[:row_d.index("</tr>")]
    (event,) = audit_rows(world.api, "page.instances_listed")
    assert (event.actor, event.summary["shown"], event.summary["filters"]) == ("maria", 5, {})


FILTERS = [
    ("status=incident", ("d",)),
    ("status=running", ("complaint", "c", "b", "a")),
    ("process=asb_complaint", ("complaint",)),
    ("version={version}", ("d", "c", "b", "a")),
    ("step=assess_risk", ("c", "b")),
    ("step=first_contact", ("a",)),
    ("overdue=1", ("a",)),
    ("incident=1", ("d",)),
    ("officer={sam}", ("b",)),
    ("officer={olivia}", ("a",)),
    ("officer={tara}", ()),
    ("area={brimington}", ("b",)),
    ("from=2026-12-28", ("d", "complaint", "c")),
    ("from=2026-12-28&to=2026-12-28", ("c",)),
    ("to=2026-12-24", ("b", "a")),
    ("version={version}&step=assess_risk&officer={oscar}", ("c",)),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS)
def test_each_filter_lists_exactly_its_instances(world, maria, query, expected):
    query = query.format(version=world.version, sam=world.users["sam"],
                         olivia=world.users["olivia"], oscar=world.users["oscar"],
                         tara=world.users["tara"], brimington=world.areas["Brimington"])
    assert _listed(maria, "?" + query) == _ids(world, *expected)
    (event,) = audit_rows(world.api, "page.instances_listed")
    assert event.summary["filters"] == dict(parse_qsl(query))
    assert event.summary["shown"] == len(expected)


def test_an_officer_held_task_counts_for_the_officer_filter(world, maria):
    # The complaint's first step is for team leaders: once tara holds it, it is hers.
    with world.api.app.app_context(), unit() as session:
        from engine.models import HumanTask

        task = session.scalars(select(HumanTask).where(
            HumanTask.business_key == world.refs["complaint"])).one()
        world.engine.claim(session, task.id, "tara")
    assert _listed(maria, f"?officer={world.users['tara']}") == _ids(world, "complaint")


@pytest.mark.parametrize(("query", "field", "message"), [
    ("?officer=nobody", "officer", "No officer or team leader is called &#39;nobody&#39;"),
    ("?officer=" + "x" * 129, "officer", "Enter a name of 128 characters or fewer"),
    ("?status=lost", "status", "Choose a status from the list"),
    ("?from=2026-02-30", "from", "Enter a real date, for example 2027-01-31"),
    ("?from=2026-12-30&to=2026-12-01", "to",
     "The end date must be the same as or after the start date"),
    ("?step=<script>", "step", "Choose a step from the list"),
])
def test_a_bad_filter_is_shown_again_with_its_message(world, maria, query, field, message):
    response = maria.get(f"/instances{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page and message in page and f'href="#{field}"' in page
    assert ROW_RE.findall(page) == [] and "<script>" not in page.split("</header>")[-1]


def test_pages_walk_older_and_newer_with_keyset_links(world, maria, monkeypatch):
    monkeypatch.setattr(instance_list, "PAGE_SIZE", 2)
    d, complaint, c, b, a = _ids(world, "d", "complaint", "c", "b", "a")
    first = maria.text("/instances")
    assert [int(i) for i in ROW_RE.findall(first)] == [d, complaint]
    links = HREF_RE.findall(first)
    assert f"/instances?after={complaint}" in links
    assert not any("before=" in link for link in links)
    second = maria.text(f"/instances?after={complaint}")
    assert [int(i) for i in ROW_RE.findall(second)] == [c, b]
    assert {f"/instances?before={c}", f"/instances?after={b}"} <= set(HREF_RE.findall(second))
    last = maria.text(f"/instances?after={b}")
    assert [int(i) for i in ROW_RE.findall(last)] == [a]
    assert not any("after=" in link for link in HREF_RE.findall(last))
    assert _listed(maria, f"?before={a}") == [c, b]
    assert _listed(maria, f"?before={c}") == [d, complaint]
    assert "before=" not in maria.text(f"/instances?before={c}").split("</table>")[-1]
    # The filters travel with the cursor, as codes and ids only.
    filtered = maria.text(f"/instances?version={world.version}")
    assert [int(i) for i in ROW_RE.findall(filtered)] == [d, c]
    for link in HREF_RE.findall(filtered):
        keys = dict(parse_qsl(urlsplit(link.replace("&amp;", "&")).query))
        assert set(keys) <= ALLOWED and all(re.fullmatch(r"[\w.-]+", v) for v in keys.values())
    assert _listed(maria, f"?version={world.version}&after={c}") == [b, a]


def test_the_filter_form_offers_ids_and_codes_never_names(world, maria):
    page = maria.text("/instances")
    sam = world.users["sam"]
    assert f'<option value="{sam}">Sam Officer (officer)</option>' in page
    assert '<option value="assess_risk">Assess the risk (assess_risk)</option>' in page
    assert f'<option value="{world.areas["Brimington"]}">Brimington</option>' in page


def test_with_many_officers_the_filter_asks_for_a_name_and_keeps_only_the_id(
        world, maria, monkeypatch):
    monkeypatch.setattr(instances, "OFFICER_LIST_MAX", 2)
    page = maria.text("/instances")
    assert "Sam Officer (officer)" not in page
    assert 'name="officer" type="text"' in page and "for example Olivia Officer" in page
    for typed in ("sam", "Sam Officer", "SAM"):
        response = maria.get(f"/instances?officer={typed.replace(' ', '+')}&status=running")
        assert response.status_code == 302
        target = response.headers["Location"]
        assert dict(parse_qsl(urlsplit(target).query)) == {
            "officer": str(world.users["sam"]), "status": "running"}
    chosen = maria.text(f"/instances?officer={world.users['sam']}")
    assert [int(i) for i in ROW_RE.findall(chosen)] == _ids(world, "b")
    assert 'value="Sam Officer"' in chosen


def test_the_instance_page_shows_history_variables_timers_messages(world, maria):
    clock.set_now(FIRST_CONTACT_DUE - timedelta(days=1))  # a day before the deadline
    with world.api.app.app_context(), unit() as session:
        world.engine.send_message(session, world.refs["a"], "change_of_circumstances",
                                  {"note": "The neighbour moved out"}, actor="api")
    response = maria.get(f"/instances/{world.ids['a']}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    history = page[page.index('id="task-history"'):page.index("</table>",
                                                               page.index('id="task-history"'))]
    assert re.search(r"Assess the risk</td>\s*<td[^>]*>24 Dec 2026, 10:00</td>\s*<td[^>]*>"
                     r"Olivia Officer</td>", history)
    assert "Completed 24 Dec 2026, 10:00 by Olivia Officer" in history
    assert "Review the risk assessment" in history
    timers = page[page.index('id="timer-list"'):]
    assert "First-contact deadline passed" in timers[:2000]
    assert "29 Dec 2026, 17:00" in timers[:2000] and "in 1 day" in timers[:2000]
    variables = page[page.index('id="variable-list"'):page.index("</dl>",
                                                                page.index('id="variable-list"'))]
    assert re.search(r"<code>first_contact_due</code></dt><dd[^>]*>29 Dec 2026, 17:00<", variables)
    assert re.search(r"<code>priority</code></dt><dd[^>]*>1<", variables)
    assert "{" not in variables and "state_json" not in page
    messages = page[page.index('id="message-list"'):]
    assert "change_of_circumstances" in messages[:1500] and "note" in messages[:1500]
    assert "The neighbour moved out" not in page
    (event,) = audit_rows(world.api, "page.instance_viewed")
    assert (event.actor, event.case_reference, event.object_id) == (
        "maria", world.refs["a"], str(world.ids["a"]))


def test_an_incident_shows_its_error_and_a_retry_button(world, maria):
    with world.api.app.app_context(), unit() as session:
        incident_id = session.scalar(select(Incident.id).where(
            Incident.instance_id == world.ids["d"]))
    page = maria.text(f"/instances/{world.ids['d']}")
    incidents = page[page.index('id="incident-list"'):]
    assert "assign_officer" in incidents and "no active officer" in incidents
    assert f'href="/instances/{world.ids["d"]}/incidents/{incident_id}/retry"' in incidents


def test_the_diagram_json_marks_the_token_and_the_path_taken(world, maria):
    response = maria.get(f"/instances/{world.ids['a']}/diagram.json")
    data = response.get_json()
    views = {v["process_id"]: v for v in data["views"]}
    current = next(v for v in data["views"] if v["key"] == data["current"])
    assert current["process_id"] == "asb_first_contact"
    assert current["active"] == ["first_contact"]
    assert current["watching"] == ["first_contact_deadline"]
    whole = views["asb_case"]
    assert "call_first_contact" in whole["active"] and "call_risk_assessment" in whole["done"]
    assert views["asb_risk_assessment"]["status"] == "done"
    assert all(v["diagram"] in data["diagrams"] for v in data["views"] if v["diagram"])
    text = json.dumps(data)
    assert "olivia" not in text and "Rita" not in text  # states only, no task data
    (event,) = audit_rows(world.api, "page.instance_diagram_viewed")
    assert event.case_reference == world.refs["a"]


def test_the_heatmap_counts_where_cases_are_and_the_time_each_step_took(world, maria):
    page = maria.text(f"/instances/heatmap/{world.version}")
    table = page[page.index('id="heatmap-table"'):]

    def row(step: str) -> list[str]:
        found = table[table.index(f'data-step="{step}"'):]
        return re.findall(r'numeric">(\d+)<', found[:found.index("</tr>")])

    assert row("assess_risk") == ["2", "0", "1"]  # b and c at it now; a's done
    assert "under a minute" in table[table.index('data-step="assess_risk"'):][:800]
    assert row("first_contact") == ["1", "0", "0"]
    assert row("assign_officer") == ["0", "1", "0"]  # d's failed step
    data = maria.get(f"/instances/heatmap/{world.version}.json").get_json()
    views = {v["process_id"]: v for v in data["views"]}
    whole = views["asb_case"]["counts"]
    assert whole["call_risk_assessment"]["now"] == 2
    assert whole["call_first_contact"]["now"] == 1
    assert whole["call_assignment"]["now"] == 1
    assess = views["asb_risk_assessment"]["counts"]["assess_risk"]
    assert (assess["now"], assess["level"], assess["average"]) == (2, 5, "under a minute")
    events = audit_rows(world.api, "page.heatmap_viewed")
    assert [e.summary["version"] for e in events] == [world.version, world.version]
    listing = maria.text("/instances/heatmap")
    assert f'href="/instances/heatmap/{world.version}"' in listing


def test_only_managers_see_the_instances(world):
    for who in ("olivia", "tara", "adam", "petra"):
        assert browser(world.api, who).get("/instances").status_code == 403
        assert browser(world.api, who).get(f"/instances/{world.ids['a']}").status_code == 403
    with world.api.app.app_context(), unit() as session:
        assert session.scalars(select(AuditEvent).where(
            AuditEvent.action.like("page.instance%"))).all() == []
