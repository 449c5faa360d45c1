"""Configuration: every setting with its value in force and provenance, the history, new values
scheduled from today or later (validated as the domain validates them), scheduled values
withdrawn; values in force never change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cases.config import DEFAULTS, LOCAL_TZ, CouncilSetting, get_setting, set_setting
from engine import clock
from tests.admin.conftest import audit_rows, counts, errors_of, page_text, send
from tests.api.support import XMAS_EVE
from web.extensions import unit

# Christmas Eve 2026 10:00 UTC is the test clock.
TOMORROW = {"day": "25", "month": "12", "year": "2026"}
TODAY = {"day": "24", "month": "12", "year": "2026"}
YESTERDAY = {"day": "23", "month": "12", "year": "2026"}


def rows(api, key):
    with api.app.app_context(), unit() as session:
        found = session.scalars(select(CouncilSetting).where(CouncilSetting.key == key)
                                .order_by(CouncilSetting.effective_from)).all()
        session.expunge_all()
        return list(found)


def in_force(api, key, at=None):
    with api.app.app_context(), unit() as session:
        return get_setting(session, key, at or clock.now())


def test_the_configuration_page_lists_every_setting_with_its_provenance(api, admin):
    with api.app.app_context(), unit() as session:
        set_setting(session, "retention_years", 3, datetime(2026, 4, 1, tzinfo=LOCAL_TZ),
                    "maria", note="Committee decision")
        set_setting(session, "homes_count", 9000, datetime(2027, 4, 1, tzinfo=LOCAL_TZ), "maria")
    page = page_text(admin.get("/admin/configuration"))
    for key in DEFAULTS:
        assert f"/admin/configuration/{key}" in admin.get("/admin/configuration").get_data(
            as_text=True)
    assert "Retention period" in page
    assert "Set by maria, in force since 1 April 2026, 00:00" in page
    assert "The default value: never changed" in page
    assert "Changes on 1 April 2027, 00:00 (set by maria)" in page
    assert '"S40 1": "St Helen\'s"' in page  # structured values shown as JSON


def test_a_setting_page_shows_the_history_with_status(api, admin):
    with api.app.app_context(), unit() as session:
        set_setting(session, "homes_count", 100, datetime(2026, 1, 1, tzinfo=LOCAL_TZ), "maria")
        set_setting(session, "homes_count", 200, datetime(2026, 4, 1, tzinfo=LOCAL_TZ), "maria",
                    note="Stock transfer")
        set_setting(session, "homes_count", 300, datetime(2027, 4, 1, tzinfo=LOCAL_TZ), "maria")
    response = admin.get("/admin/configuration/homes_count")
    page = page_text(response)
    assert "1 April 2027, 00:00 300 maria" in page and "Scheduled Withdraw" in page
    assert "1 April 2026, 00:00 200 Reason: Stock transfer maria" in page
    assert "In force" in page and page.count("Replaced") == 2  # 100 and the default
    assert "Before 1 January 2026, 00:00 0 The default" in page
    assert 'value="200"' in response.get_data(as_text=True)  # the value in force, to edit


def test_scheduling_a_value_from_a_later_date(api, admin):
    before = counts(api)
    response = send(admin, "/admin/configuration/retention_years",
                    {"value": " 4 ", **TOMORROW, "note": "Policy review"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/configuration/retention_years"
    (row,) = rows(api, "retention_years")
    assert (row.value, row.recorded_by, row.note) == (4, "adam", "Policy review")
    assert row.effective_from == datetime(2026, 12, 25, tzinfo=LOCAL_TZ)
    assert in_force(api, "retention_years") == 6  # not yet
    assert in_force(api, "retention_years", datetime(2026, 12, 25, tzinfo=LOCAL_TZ)) == 4
    assert counts(api) == before | {"settings": before["settings"] + 1,
                                    "audit": before["audit"] + 1}
    (event,) = audit_rows(api, "config.scheduled")
    assert (event.actor, event.object_type, event.object_id) == (
        "adam", "council_setting", str(row.id))
    assert event.summary == {"via": "admin", "key": "retention_years", "value": 4,
                             "effective_from": "2026-12-25T00:00:00+00:00"}
    page = page_text(admin.get("/admin/configuration/retention_years"))
    assert "the new value takes effect on 25 December 2026" in page


def test_a_value_for_today_takes_effect_now_and_the_past_stays_true(api, admin):
    response = send(admin, "/admin/configuration/first_contact_working_days",
                    {"value": json.dumps({"1": 2, "2": 10}), **TODAY})
    assert response.status_code == 302
    (row,) = rows(api, "first_contact_working_days")
    assert row.effective_from == XMAS_EVE
    assert in_force(api, "first_contact_working_days") == {"1": 2, "2": 10}
    earlier = XMAS_EVE - timedelta(minutes=1)
    assert in_force(api, "first_contact_working_days", earlier) == {"1": 1, "2": 5}
    assert "the new value takes effect now" in page_text(
        admin.get("/admin/configuration/first_contact_working_days"))


def test_a_structured_value_is_normalised_by_the_validator(api, admin):
    response = send(admin, "/admin/configuration/postcode_wards",
                    {"value": '{"s40  1": "St Helen\'s", "S41": "Newbold"}', **TOMORROW})
    assert response.status_code == 302
    (row,) = rows(api, "postcode_wards")
    assert row.value == {"S40 1": "St Helen's", "S41": "Newbold"}


def test_the_close_of_business_is_typed_as_text(api, admin):
    assert send(admin, "/admin/configuration/close_of_business",
                {"value": "16:30", **TOMORROW}).status_code == 302
    assert rows(api, "close_of_business")[0].value == "16:30"


BAD = [
    ("retention_years", {"value": ""}, "Enter the new value"),
    ("retention_years", {"value": "six"}, "Enter a whole number, like 6"),
    ("retention_years", {"value": "4.5"}, "Enter a whole number, like 6"),
    ("retention_years", {"value": "9" * 5000}, "Enter a whole number, like 6"),
    ("retention_years", {"value": "11"}, "The value must be between 1 and 10 (got 11)"),
    ("case_review_threshold", {"value": "4"}, "The value must be between 1 and 3 (got 4)"),
    ("close_of_business", {"value": "5pm"}, "Close of business must be &#39;HH:MM&#39;"),
    ("first_contact_working_days", {"value": '{"1": 1, "2": 5'},
     "Enter the value as valid JSON: expecting &#39;,&#39; delimiter at line 1, column 16"),
    ("first_contact_working_days", {"value": '{"1": 1}'},
     "The value must have exactly the keys 1, 2"),
    ("first_contact_working_days", {"value": '{"1": NaN, "2": 5}'},
     "Enter the value as valid JSON: NaN is not allowed"),
    ("first_contact_working_days", {"value": "[" * 100_001}, "100,000 characters or fewer"),
    ("first_contact_working_days", {"value": "[" * 5000 + "]" * 5000},
     "it is nested too deeply"),
    ("repeat_victim_rules", {"value": '{"short": {"reports": 1, "days": 14}, "long": '
                                      '{"reports": 5, "days": 180}}'},
     "Short.reports must be between 2 and 100 (got 1)"),
    ("partner_directory", {"value": '[{"code": "x", "name": "X", "kinds": [{}]}]'},
     "Partner x: kinds must be distinct"),
    ("partner_directory", {"value": '"police"'},
     "The partner directory must be a list of agencies"),
    ("postcode_wards", {"value": '{"NOT A POSTCODE": "Spire"}'},
     "&#39;NOT A POSTCODE&#39; is not a postcode area, district or sector prefix"),
    ("council_details", {"value": '{"name": "X"}'}, "Council details need phone, email"),
    ("council_details", {"value": '"\\u0000"'}, "The value must be an object"),
    ("homes_count", {"value": "1\x00"}, "The value must not contain control characters"),
    ("homes_count", YESTERDAY, "The date must be today or in the future"),
    ("homes_count", {"day": "", "month": "", "year": ""},
     "Enter the date the new value takes effect"),
    ("homes_count", {"day": "1", "month": "", "year": "2027"},
     "The date the new value takes effect must include a month"),
    ("homes_count", {"day": "31", "month": "2", "year": "2027"}, "The date must be a real date"),
    ("homes_count", {"day": "1", "month": "1", "year": "27"}, "The date must be a real date"),
    ("homes_count", {"day": "1", "month": "1", "year": "99999"}, "The date must be a real date"),
    ("homes_count", {"day": "-1", "month": "1", "year": "2027"}, "The date must be a real date"),
    ("homes_count", {"note": "x" * 501}, "The reason must be 500 characters or fewer"),
]


@pytest.mark.parametrize(("key", "changes", "message"), BAD)
def test_a_bad_value_or_date_is_reshown_with_the_message_and_nothing_recorded(
        api, admin, key, changes, message):
    data = {"value": "5" if key in ("homes_count", "retention_years") else "", **TOMORROW,
            **changes}
    if key not in ("homes_count", "retention_years") and "value" not in changes:
        data["value"] = json.dumps(DEFAULTS[key])
    before = counts(api)
    html = errors_of(send(admin, f"/admin/configuration/{key}", data))
    assert message in html
    assert counts(api) == before
    if len(data["value"]) < 200 and "\x00" not in data["value"]:
        assert data["value"].replace('"', "&#34;")[:20] in html or (
            data["value"].replace('"', "&quot;")[:20] in html)  # what was typed is kept


def test_the_date_error_links_to_the_day_field(admin):
    html = errors_of(send(admin, "/admin/configuration/homes_count",
                          {"value": "5", **YESTERDAY}))
    assert 'href="#day"' in html and 'value="23"' in html


def test_two_values_from_the_same_day_are_refused(api, admin):
    send(admin, "/admin/configuration/homes_count", {"value": "5", **TOMORROW})
    before = counts(api)
    html = errors_of(send(admin, "/admin/configuration/homes_count", {"value": "6", **TOMORROW}))
    assert "A value of homes_count already takes effect at 2026-12-25T00:00:00+00:00" in html
    assert counts(api) == before


def test_a_scheduled_value_can_be_withdrawn_before_it_takes_effect(api, admin):
    send(admin, "/admin/configuration/homes_count", {"value": "5", **TOMORROW})
    (row,) = rows(api, "homes_count")
    response = send(admin, f"/admin/configuration/homes_count/{row.id}/cancel")
    assert response.status_code == 302
    assert rows(api, "homes_count") == []
    (event,) = audit_rows(api, "config.cancelled")
    assert event.object_id == str(row.id)
    assert event.summary == {"via": "admin", "key": "homes_count", "value": 5,
                             "effective_from": "2026-12-25T00:00:00+00:00"}


def test_a_value_in_force_can_never_be_withdrawn(api, admin):
    send(admin, "/admin/configuration/homes_count", {"value": "5", **TODAY})
    (row,) = rows(api, "homes_count")
    before = counts(api)
    html = errors_of(send(admin, f"/admin/configuration/homes_count/{row.id}/cancel"))
    assert "This value has taken effect: it stays in the history" in html
    assert counts(api) == before and rows(api, "homes_count")[0].value == 5
    assert "Withdraw</button>" not in admin.get("/admin/configuration/homes_count").get_data(
        as_text=True)


def test_a_scheduled_value_takes_effect_on_its_day(api, signed_in):
    send(signed_in("adam"), "/admin/configuration/homes_count", {"value": "5", **TOMORROW})
    clock.set_now(datetime(2026, 12, 25, 0, 1, tzinfo=UTC))
    admin = signed_in("adam")  # a fresh session: the old one timed out overnight
    page = page_text(admin.get("/admin/configuration"))
    assert "Set by adam, in force since 25 December 2026, 00:00" in page
    (row,) = rows(api, "homes_count")
    assert send(admin, f"/admin/configuration/homes_count/{row.id}/cancel").status_code == 400


def test_a_setting_of_another_key_cannot_be_withdrawn_through_this_one(api, admin):
    send(admin, "/admin/configuration/homes_count", {"value": "5", **TOMORROW})
    (row,) = rows(api, "homes_count")
    assert send(admin, f"/admin/configuration/retention_years/{row.id}/cancel").status_code == 404
    assert len(rows(api, "homes_count")) == 1
