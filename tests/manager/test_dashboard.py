"""The dashboard pages: what a manager sees, follows, downloads; who may; what is refused.

The cases are the promise 2 world of ``tests.manager`` (A on time, B late, C breaching, E due
later today, D not yet due), built through the shipped processes in the app's own database.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import select, update

from cases.audit import AuditEvent
from cases.config import set_setting
from cases.people import User
from engine import clock
from tests.api.support import Api, make_api
from tests.lifecycle_support import Lifecycle
from tests.manager import NOW, incident, open_case, promise_two
from web.extensions import unit
from web.manager.dashboard import safe_cell

JANUARY = "from=2027-01&to=2027-01"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def html_of(doc) -> str:  # type: ignore[no-untyped-def]
    return lxml.html.tostring(doc, encoding="unicode")


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(NOW)
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"), ASB_DASHBOARD_PER_PAGE=2)


@pytest.fixture
def world(api: Api) -> dict[str, str]:
    with api.app.app_context(), unit() as session:
        found = promise_two(Lifecycle(session))
        return {letter: case.reference for letter, case in found.items()}


def client_of(api: Api, who: str):  # type: ignore[no-untyped-def]
    """A client signed in as ``who`` (a session as the sign-in page makes)."""
    client = api.app.test_client()
    if who == "anon":
        return client
    with api.app.app_context(), unit() as session:
        uid = session.scalar(select(User.id).where(User.name == who))
    with client.session_transaction() as state:
        now = clock.now().isoformat()
        state.update(uid=uid, sid=f"test-{who}", started=now, seen=now)
    return client


@pytest.fixture
def maria(api: Api):  # type: ignore[no-untyped-def]
    return client_of(api, "maria")


def page(client, path: str, status: int = 200):  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return lxml.html.fromstring(response.get_data(as_text=True))


def table(doc, figure: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """A figure's table as text, header row first."""
    (found,) = doc.xpath(f'//table[@data-figure="{figure}"]')
    return [[" ".join(cell.xpath("string(text()|a/text())").split()) for cell in row]
            for row in found.xpath(".//tr")]


def listed(doc) -> list[str]:  # type: ignore[no-untyped-def]
    return [" ".join(a.text_content().split())
            for a in doc.xpath('//table[@data-list]//th[@scope="row"]/a')]


def total_of(doc) -> int:  # type: ignore[no-untyped-def]
    return int(doc.xpath('string(//p[@id="manager-total"]/strong)'))


def audits(api: Api, action: str) -> list[AuditEvent]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))
        session.expunge_all()
        return rows


def test_a_manager_sees_promise_2_kept_and_broken_and_the_breached_case(api, world, maria):
    doc = page(maria, f"/dashboard?{JANUARY}")
    assert table(doc, "first_contact_now") == [
        ["Priority", "Breaching now", "Due later today"], ["Priority 1", "1", "1"],
        ["Priority 2", "0", "0"], ["All", "1", "1"]]
    assert table(doc, "first_contact")[1:] == [
        ["Jan 2027", "0", "2", "0.0", "1", "0", "100.0", "33.3", "2"],
        ["Whole period", "0", "2", "0.0", "1", "0", "100.0", "33.3", "2"]]
    (headline,) = doc.xpath('//div[contains(@class, "manager-headline__item--alert")]//a')
    assert headline.text_content().split()[0] == "1"
    shown = page(maria, headline.get("href"))
    assert listed(shown) == [world["C"]]
    assert "breaching now" in shown.text_content()
    assert table(doc, "workload")[1:] == [["Olivia Officer", "5", "3", "5", "1"]]
    assert table(doc, "overdue_tasks")[1] == ["Make first contact", "1", "1",
                                             "5 January 2027, 17:00"]
    assert table(doc, "open_stage")[1:] == [["Triage", "3"], ["Contact", "2"],
                                           ["All open cases", "5"]]


def test_every_number_links_to_exactly_that_many_cases(api, world, maria):
    doc = page(maria, f"/dashboard?{JANUARY}")
    links = doc.xpath('//table[@data-figure]//td/a')
    assert len(links) >= 20
    for link in links:
        number = int(link.text.strip())
        shown = page(maria, link.get("href"))
        assert total_of(shown) == number, link.get("href")
        assert not re.search(r"Reporter|Elm Road|example\.org", link.get("href"))
    assert len(audits(api, "dashboard.cases_listed")) == len(links)


def test_the_cases_behind_a_figure_are_paged_newest_first(api, world, maria):
    path = f"/dashboard/cases?figure=first_contact&{JANUARY}"
    first = page(maria, path)
    assert total_of(first) == 5 and listed(first) == [world["D"], world["E"]]
    assert listed(page(maria, path + "&page=2")) == [world["C"], world["B"]]
    last = page(maria, path + "&page=3")
    assert listed(last) == [world["A"]]
    assert last.xpath('//nav[contains(@class, "govuk-pagination")]//a[contains(@href, "page=2")]')
    assert "nothing on this page" in page(maria, path + "&page=4").text_content()


def test_the_list_says_in_words_which_figure_it_is_behind(api, world, maria):
    doc = page(maria, f"/dashboard/cases?figure=open&by=officer&value=olivia&priority=1"
                      f"&{JANUARY}&team=North")
    assert doc.xpath("string(//h1)") == "Open cases"
    said = [" ".join(row.text_content().split())
            for row in doc.xpath('//dl[contains(@class, "govuk-summary-list")]/div')]
    assert said == ["Breakdown Officer", "Value Olivia Officer", "Priority Priority 1",
                    "Period Jan 2027 to Jan 2027", "Team North"]
    assert listed(doc) == [world["E"], world["C"]]           # 2 a page, newest first
    assert total_of(doc) == 3


def test_the_page_shows_the_busiest_officers_and_the_csv_every_one(api, world, maria,
                                                                     monkeypatch):
    with api.app.app_context(), unit() as session:
        life = Lifecycle(session)
        open_case(life, NOW, 9, incident=incident(location="2 High Street, Chesterfield S41 7AA"))
    monkeypatch.setattr("web.manager.tables.WORKLOAD_SHOWN", 1)
    doc = page(maria, f"/dashboard?{JANUARY}")
    assert table(doc, "workload")[1:] == [["Olivia Officer", "5", "3", "5", "1"]]
    assert "The 1 officer with the most open cases, of 2: the CSV file has every one." in (
        doc.text_content())
    text = maria.get(f"/dashboard/workload.csv?{JANUARY}").get_data(as_text=True)
    assert text.splitlines()[1:] == ["Olivia Officer,5,3,5,1", "Sam Officer,1,0,1,0"]


def test_tables_export_as_csv_with_a_header_row(api, world, maria):
    response = maria.get(f"/dashboard/first_contact_now.csv?{JANUARY}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="asb-first-contact-now-2027-01-to-2027-01.csv"')
    assert response.get_data(as_text=True) == (
        "Priority,Breaching now,Due later today\r\nPriority 1,1,1\r\nPriority 2,0,0\r\n"
        "All,1,1\r\n")
    response = maria.get(f"/dashboard/first_contact.csv?{JANUARY}")
    assert response.get_data(as_text=True) == (
        "Month,Priority 1 on time,Priority 1 late,Priority 1 % on time,Priority 2 on time,"
        "Priority 2 late,Priority 2 % on time,All % on time,Not yet due\r\n"
        "Jan 2027,0,2,0.0,1,0,100.0,33.3,2\r\nWhole period,0,2,0.0,1,0,100.0,33.3,2\r\n")
    (exported,) = audits(api, "dashboard.exported")[-1:]
    assert (exported.object_id, exported.summary["rows"]) == ("first_contact", 2)


def test_a_cell_that_a_spreadsheet_would_run_is_exported_as_text(api, world, maria):
    with api.app.app_context(), unit() as session:
        session.execute(update(User).where(User.name == "olivia")
                        .values(display_name="=HYPERLINK(\"http://evil.example\")"))
    text = maria.get(f"/dashboard/workload.csv?{JANUARY}").get_data(as_text=True)
    assert "\r\n\"'=HYPERLINK(\"\"http://evil.example\"\")\",5,3,5,1\r\n" in text
    assert [safe_cell(v) for v in ("+1", "-2", "@SUM(A1)", "\tx", "plain", "1")] == [
        "'+1", "'-2", "'@SUM(A1)", "'\tx", "plain", "1"]


@pytest.mark.parametrize(("path", "message"), [
    ("/dashboard?from=2027-13", "Enter a month as year and month"),
    ("/dashboard?from=2027-05&to=2027-01", "same as or after the first month"),
    ("/dashboard?from=2020-01&to=2027-01", "at most 36 months"),
    ("/dashboard?area=Atlantis", "Choose an area from the list"),
    ("/dashboard?team=%3Cscript%3E", "Choose a team from the list"),
    ("/dashboard/cases?figure=nothing", "Choose a figure from the dashboard"),
    ("/dashboard/cases?figure=open&by=priority&value=7", "is not a known value"),
    ("/dashboard/cases?figure=open&by=stage&value=triage&colour=red", "not a filter of"),
    ("/dashboard/cases?figure=first_contact&page=0", "whole number"),
    ("/dashboard/cases?figure=first_contact_now&from=x", "Enter a month"),
])
def test_bad_filters_are_refused_with_the_reason(api, world, maria, path, message):
    response = maria.get(path)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text and "There is a problem" in text
    assert "<script>" not in text
    assert audits(api, "dashboard.viewed") == [] and audits(api, "dashboard.cases_listed") == []


def test_a_bad_export_is_refused_and_an_unknown_one_is_not_found(api, world, maria):
    response = maria.get("/dashboard/open_stage.csv?to=2027-99")
    assert response.status_code == 400 and "to: Enter a month" in response.get_data(as_text=True)
    assert maria.get(f"/dashboard/nothing.csv?{JANUARY}").status_code == 404
    assert maria.get(f"/dashboard/nm01.csv?{JANUARY}").status_code == 404   # no homes owned
    assert audits(api, "dashboard.exported") == []


@pytest.mark.parametrize("path", ["/dashboard", f"/dashboard/cases?figure=hate&{JANUARY}",
                                  f"/dashboard/hate.csv?{JANUARY}"])
def test_only_managers_may_look(api, path):
    assert client_of(api, "anon").get(path).status_code == 302
    for who in ("olivia", "tara", "adam", "petra", "paul"):
        assert client_of(api, who).get(path).status_code == 403, who
    assert client_of(api, "maria").get(path).status_code == 200


def test_views_are_audited_with_filters_and_counts_only(api, world, maria):
    page(maria, f"/dashboard?{JANUARY}&area=St+Helen%27s")
    page(maria, f"/dashboard/cases?figure=victims&kind=repeat&{JANUARY}")
    maria.get(f"/dashboard/hate.csv?{JANUARY}")
    (viewed,) = audits(api, "dashboard.viewed")
    assert (viewed.actor, viewed.object_type) == ("maria", "dashboard")
    assert viewed.summary["filters"] == {"from": "2027-01", "to": "2027-01", "area": "St Helen's"}
    (listing,) = audits(api, "dashboard.cases_listed")
    assert listing.summary["params"] == {"kind": "repeat"}
    assert (listing.summary["total"], listing.summary["page"]) == (0, 1)
    everything = json.dumps([e.summary for e in audits(api, "dashboard.viewed")
                             + audits(api, "dashboard.cases_listed")
                             + audits(api, "dashboard.exported")])
    for private in ("ASB-", "Reporter", "Elm Road", "example.org", "Shouting"):
        assert private not in everything


def test_area_and_team_narrow_every_figure(api, world, maria):
    north = page(maria, f"/dashboard?{JANUARY}&team=North&area=St+Helen%27s")
    assert table(north, "first_contact_now")[-1] == ["All", "1", "1"]
    south = page(maria, f"/dashboard?{JANUARY}&team=South")
    assert table(south, "first_contact_now")[-1] == ["All", "0", "0"]
    assert table(south, "open_priority") == [["Priority", "Open cases"],
                                             ["All open cases", "0"]]
    assert "team=South" in south.xpath('string(//a[contains(@href, ".csv")]/@href)')


def test_nm01_shows_only_for_a_council_that_owns_homes(api, world, maria):
    doc = page(maria, f"/dashboard?{JANUARY}")
    assert not doc.xpath('//table[@data-figure="nm01"]')
    assert "the council owns no homes" in doc.text_content()
    with api.app.app_context(), unit() as session:
        set_setting(session, "homes_count", 2500, NOW.date(), recorded_by="adam")
    clock.set_now(NOW + timedelta(minutes=5))   # the figures are worked out again when 5 min old
    doc = page(maria, f"/dashboard?{JANUARY}")
    assert table(doc, "nm01")[1:] == [["NM01(1) anti-social behaviour cases", "5", "2.00"],
                                      ["NM01(2) hate-related anti-social behaviour cases", "0",
                                       "0.00"]]
    assert maria.get(f"/dashboard/nm01.csv?{JANUARY}").status_code == 200


def test_figures_are_kept_for_five_minutes_and_worked_out_again_on_request(api, world, maria):
    before = page(maria, f"/dashboard?{JANUARY}")
    assert "Figures as at 6 January 2027, 12:00." in before.get_element_by_id(
        "figures-as-at").text_content()
    with api.app.app_context(), unit() as session:
        set_setting(session, "homes_count", 2500, NOW.date(), recorded_by="adam")
    clock.set_now(NOW + timedelta(minutes=4))
    kept = page(maria, f"/dashboard?{JANUARY}")
    assert not kept.xpath('//table[@data-figure="nm01"]')   # as at NOW, 4 minutes ago
    assert page(maria, "/dashboard?from=2027-01&to=2027-02").xpath(
        '//table[@data-figure="nm01"]'), "other filters have their own figures"
    token = CSRF_RE.search(html_of(kept)).group(1)
    assert maria.post("/dashboard/refresh", data={"from": "2027-01", "to": "2027-01"}
                      ).status_code == 400                    # no CSRF token: nothing dropped
    assert not page(maria, f"/dashboard?{JANUARY}").xpath('//table[@data-figure="nm01"]')
    response = maria.post("/dashboard/refresh", data={
        "csrf_token": token, "from": "2027-01", "to": "2027-01"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/dashboard?{JANUARY}"
    fresh = page(maria, f"/dashboard?{JANUARY}")
    assert table(fresh, "nm01")[1][0] == "NM01(1) anti-social behaviour cases"
    refused = maria.post("/dashboard/refresh", data={
        "csrf_token": token, "from": "2027-13", "to": "2027-01"})
    assert refused.status_code == 400 and "There is a problem" in refused.get_data(as_text=True)
    with api.app.app_context(), unit() as session:
        audit = session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("dashboard.%")).order_by(AuditEvent.id)).all()
    assert audit.count("dashboard.refreshed") == 1


def test_charts_are_svg_images_with_a_title_a_description_and_the_table_beside(api, world,
                                                                            maria):
    doc = page(maria, f"/dashboard?{JANUARY}")
    charts = doc.xpath('//svg[@role="img"]')
    assert {c.getparent().getparent().getparent().get("id") for c in charts} == {
        "figure-first_contact", "figure-open_stage", "figure-hate"}
    for chart in charts:
        title_id, desc_id = chart.get("aria-labelledby").split()
        assert chart.xpath(f'.//*[@id="{title_id}"]')[0].tag == "title"
        assert chart.xpath(f'.//*[@id="{desc_id}"]')[0].text.endswith("has the numbers.")
        section = chart.getparent().getparent()
        assert section.xpath(".//table"), "every chart has its table beside it"
    (trend,) = doc.xpath('//section[@id="figure-first_contact"]//svg')
    words = [t.text for t in trend.xpath(".//text")]
    assert {"% on time", "Jan", "2027", "Month the report was received"} <= set(words)
    assert len(doc.xpath('//section[@id="figure-hate"]//svg//rect')) == 5
