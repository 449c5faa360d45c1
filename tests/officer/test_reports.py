"""New report entry by an officer: success opens the case; every error re-shows what was typed."""

from __future__ import annotations

import pytest

from tests.officer.conftest import audit_rows, counts, token

GOOD = {
    "channel": "phone", "reporter_name": "Rita Reporter", "reporter_phone": "07700 900123",
    "reporter_email": "rita@example.org", "reporter_address": "12 Mill Lane, Chesterfield S40 1AB",
    "pref_channels": ["email", "letter"], "unsafe_channels": ["sms"], "safe_days": "mon-fri",
    "safe_from": "09:00", "safe_to": "17:00", "no_voicemail": "y", "confidential": "y",
    "incident_day": "23", "incident_month": "12", "incident_year": "2026",
    "incident_time": "23:30", "location": "14 Mill Lane, Chesterfield", "postcode": "S40 1AB",
    "description": "Racist abuse shouted at my door", "category": "personal",
    "hate_strands": ["race"], "vulnerability": ["vulnerable_adult"],
    "reported_name": "Ray Reported", "reported_address": "14 Mill Lane, Chesterfield S40 1AB",
    "witness_name": "Wendy Witness", "witness_phone": "07700 900456",
}


def post(client, **changes):
    data = {**GOOD, **changes, "csrf_token": token(client)}
    return client.post("/reports/new", data={k: v for k, v in data.items() if v is not None})


def test_the_form_shows_for_case_workers_only(signed_in):
    html = signed_in("olivia").get("/reports/new").get_data(as_text=True)
    assert "New report" in html and 'name="incident_day"' in html
    assert signed_in("petra").get("/reports/new").status_code == 403
    adam = signed_in("adam")
    assert post(adam).status_code == 403


def test_a_good_report_opens_the_case_with_a_banner(api, signed_in):
    olivia = signed_in("olivia")
    response = post(olivia)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    reference = location.rsplit("/", 1)[-1]
    html = olivia.get(location).get_data(as_text=True)
    assert f"Case {reference} opened: priority 1, first contact due by 29 Dec 2026, 17:00" in html
    for text in ("Ray Reported", "Wendy Witness", "Do not leave voicemail", "Never by: sms",
                 "mon-fri 09:00–17:00", "Vulnerable"):
        assert text in html, text
    (row,) = audit_rows(api, "case.opened_by_officer")
    assert row.actor == "olivia" and row.summary["priority"] == 1


def _refused(api, client, **changes):
    before = counts(api)
    response = post(client, **changes)
    assert response.status_code == 400
    assert counts(api) == before
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("changes", "message"), [
    ({"reporter_name": ""}, "Enter the reporter&#39;s full name"),
    ({"channel": None}, "Select how it was reported"),
    ({"category": None}, "Select a category"),
    ({"description": ""}, "Enter what happened"),
    ({"location": ""}, "Enter where it happened"),
    ({"reporter_email": "rita-at-example"}, "email address is not an email address"),
    ({"reporter_phone": "", "reporter_email": "", "reporter_address": ""},
     "give a phone number, email address or address"),
    ({"incident_day": "31", "incident_month": "2"}, "must be a real date"),
    ({"incident_day": "", "incident_month": "", "incident_year": ""},
     "Enter the date the incident happened"),
    ({"incident_time": "25:99"}, "as HH:MM"),
    ({"incident_year": "2027"}, "must not be later than the report"),
    ({"postcode": "NOT A CODE"}, "postcode is not a UK postcode"),
    ({"safe_from": "18:00", "safe_to": "09:00"}, "must be later than from"),
    ({"pref_channels": ["sms"], "unsafe_channels": ["sms"]}, "is also listed as unsafe"),
    ({"reported_name": "", "reported_address": "14 Mill Lane"}, "Enter the reported name"),
])
def test_each_error_is_shown_on_its_field_keeping_what_was_typed(api, signed_in, changes, message):
    html = _refused(api, signed_in("olivia"), **changes)
    assert "There is a problem" in html and message in html, message
    assert 'value="Wendy Witness"' in html or changes.get("witness_name") == ""
    assert "Racist abuse shouted at my door" in html or "description" in changes
    assert 'value="race" checked' in html


def test_several_errors_are_listed_together_in_page_order(api, signed_in):
    html = _refused(api, signed_in("olivia"), reporter_name="", description="",
                    reporter_email="bad")
    name, email, what = (html.index(f'href="#{field}"') for field in
                         ("reporter_name", "reporter_email", "description"))
    assert name < email < what
    assert 'value="bad"' in html


def test_a_report_without_the_csrf_token_is_refused(api, signed_in):
    before = counts(api)
    response = signed_in("olivia").post("/reports/new", data=GOOD)
    assert response.status_code == 400 and counts(api) == before
