"""Council configuration: values in force by date, validation, history, the ward lookup."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from cases.config import (
    DEFAULTS,
    VALIDATORS,
    ConfigInvalid,
    CouncilSetting,
    get_setting,
    history,
    normalise_postcode,
    set_setting,
    settings_in_force,
    validate,
    ward_for_postcode,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def fixed_now() -> datetime:
    return NOW


def row_count(session) -> int:
    return session.scalar(select(func.count()).select_from(CouncilSetting))


# Defaults.

def test_every_setting_has_a_default_and_a_validator():
    assert set(DEFAULTS) == set(VALIDATORS)


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_default_passes_its_own_validator(key):
    assert validate(key, DEFAULTS[key]) == DEFAULTS[key]


def test_defaults_follow_the_domain():
    assert DEFAULTS["close_of_business"] == "17:00"
    assert DEFAULTS["first_contact_working_days"] == {"1": 1, "2": 5}
    assert DEFAULTS["case_review_threshold"] == 3
    assert DEFAULTS["reopen_window_days"] == 28
    codes = {p["code"] for p in DEFAULTS["partner_directory"]}
    assert {"police", "fire", "youth", "education", "environmental", "county",
            "victim_support", "children_safeguarding", "adult_safeguarding", "mediation",
            "housing"} == codes  # the seed's partners, and issue 5's mediation and housing
    assert all(p["email"].endswith(".example.org") for p in DEFAULTS["partner_directory"])


def test_defaults_when_nothing_is_set(db_session):
    for key, default in DEFAULTS.items():
        assert get_setting(db_session, key, NOW) == default
    assert get_setting(db_session, "case_review_threshold", now=fixed_now) == 3


def test_returned_values_are_copies(db_session):
    value = get_setting(db_session, "first_contact_working_days", NOW)
    value["1"] = 99
    assert get_setting(db_session, "first_contact_working_days", NOW) == {"1": 1, "2": 5}


# Values in force by date.

def test_value_effective_from_1_april_is_not_in_force_on_31_march(db_session):
    set_setting(db_session, "reopen_window_days", 14, date(2026, 4, 1), recorded_by="manager1",
                note="new policy from April", now=fixed_now)
    assert get_setting(db_session, "reopen_window_days", london(2026, 3, 31, 12)) == 28
    assert get_setting(db_session, "reopen_window_days", london(2026, 3, 31, 23, 59, 59)) == 28
    assert get_setting(db_session, "reopen_window_days", london(2026, 4, 1, 0, 0)) == 14
    # 1 April 00:00 in London is 31 March 23:00 UTC (summer time).
    assert get_setting(db_session, "reopen_window_days", datetime(2026, 3, 31, 23, 0,
                                                                  tzinfo=UTC)) == 14
    assert get_setting(db_session, "reopen_window_days", now=fixed_now) == 14


def test_a_later_value_supersedes(db_session):
    set_setting(db_session, "case_review_threshold", 2, london(2026, 4, 1), now=fixed_now)
    set_setting(db_session, "case_review_threshold", 1, london(2026, 10, 1), now=fixed_now)
    assert get_setting(db_session, "case_review_threshold", london(2026, 1, 1)) == 3
    assert get_setting(db_session, "case_review_threshold", london(2026, 6, 1)) == 2
    assert get_setting(db_session, "case_review_threshold", london(2026, 10, 1)) == 1
    assert get_setting(db_session, "case_review_threshold", london(2030, 1, 1)) == 1


def test_an_event_is_judged_by_the_value_in_force_when_it_happened(db_session):
    set_setting(db_session, "first_contact_working_days", {1: 1, 2: 3}, london(2026, 9, 1),
                now=fixed_now)
    received_in_summer = london(2026, 7, 14, 10)
    received_in_autumn = london(2026, 9, 14, 10)
    assert get_setting(db_session, "first_contact_working_days", received_in_summer)["2"] == 5
    assert get_setting(db_session, "first_contact_working_days", received_in_autumn)["2"] == 3


def test_a_future_value_is_not_yet_in_force(db_session):
    set_setting(db_session, "homes_count", 9000, london(2027, 4, 1), now=fixed_now)
    assert get_setting(db_session, "homes_count", now=fixed_now) == 0
    assert get_setting(db_session, "homes_count", london(2027, 4, 1)) == 9000


def test_row_records_who_when_and_why(db_session):
    row = set_setting(db_session, "retention_years", 3, london(2026, 4, 1), "manager1",
                      "data retention policy v2", now=fixed_now)
    assert row.id is not None
    assert row.recorded_at == NOW
    assert row.effective_from == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
    db_session.expire_all()
    stored = db_session.get(CouncilSetting, row.id)
    assert stored.effective_from == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
    assert (stored.recorded_by, stored.note, stored.value) == (
        "manager1", "data retention policy v2", 3)


def test_values_are_normalised(db_session):
    set_setting(db_session, "close_of_business", time(16, 30), london(2026, 1, 1), now=fixed_now)
    set_setting(db_session, "postcode_wards", {"s40  1": "Ward A"}, london(2026, 1, 1),
                now=fixed_now)
    assert get_setting(db_session, "close_of_business", NOW) == "16:30"
    assert get_setting(db_session, "postcode_wards", NOW) == {"S40 1": "Ward A"}


def test_history_is_newest_first(db_session):
    set_setting(db_session, "reopen_window_days", 21, london(2026, 1, 1), now=fixed_now)
    set_setting(db_session, "reopen_window_days", 35, london(2026, 7, 1), now=fixed_now)
    set_setting(db_session, "reopen_window_days", 14, london(2026, 4, 1), now=fixed_now)
    set_setting(db_session, "homes_count", 10, london(2026, 4, 1), now=fixed_now)
    assert [row.value for row in history(db_session, "reopen_window_days")] == [35, 14, 21]
    assert history(db_session, "retention_years") == []


def test_settings_in_force_lists_every_key(db_session):
    set_setting(db_session, "homes_count", 9000, london(2026, 4, 1), "manager1", now=fixed_now)
    set_setting(db_session, "homes_count", 9100, london(2027, 4, 1), "manager1", now=fixed_now)
    shown = settings_in_force(db_session, london(2026, 11, 23))
    assert set(shown) == set(DEFAULTS)
    assert shown["homes_count"]["value"] == 9000
    assert shown["homes_count"]["effective_from"] == london(2026, 4, 1)
    assert shown["homes_count"]["recorded_by"] == "manager1"
    assert shown["case_review_threshold"] == {
        "value": 3, "effective_from": None, "recorded_by": None, "note": None}
    assert settings_in_force(db_session, now=fixed_now)["homes_count"]["value"] == 9000


# Refusals: ConfigInvalid, and nothing written.

INVALID = [
    ("no_such_setting", 1, "key"),
    ("case_review_threshold", 4, "case_review_threshold"),
    ("case_review_threshold", 0, "case_review_threshold"),
    ("case_review_threshold", "3", "case_review_threshold"),
    ("case_review_threshold", True, "case_review_threshold"),
    ("close_of_business", "5pm", "close_of_business"),
    ("close_of_business", "24:00", "close_of_business"),
    ("first_contact_working_days", {"1": 1}, "first_contact_working_days"),
    ("first_contact_working_days", {"1": 1, "2": -5}, "first_contact_working_days"),
    ("first_contact_working_days", [1, 5], "first_contact_working_days"),
    ("update_cadence_working_days", {"1": 0, "2": 10}, "update_cadence_working_days"),
    ("update_cadence_choices", {}, "update_cadence_choices"),
    ("update_cadence_choices", {"Every Day": 1}, "update_cadence_choices"),
    ("case_review_window_months", 0, "case_review_window_months"),
    ("case_review_qualifying_months", 1.5, "case_review_qualifying_months"),
    ("case_review_timescales_working_days", {"acknowledge": 20, "decide": 15, "outcome": 25},
     "case_review_timescales_working_days"),
    ("case_review_timescales_working_days", {"acknowledge": 5, "decide": 15},
     "case_review_timescales_working_days"),
    ("complaint_timescales_working_days", {"stage1_answer": 10},
     "complaint_timescales_working_days"),
    ("reopen_window_days", -1, "reopen_window_days"),
    ("repeat_victim_rules", {"short": {"reports": 2, "days": 14}}, "repeat_victim_rules"),
    ("repeat_victim_rules", {"short": {"reports": 1, "days": 14},
                             "long": {"reports": 5, "days": 180}}, "repeat_victim_rules"),
    ("retention_years", 11, "retention_years"),
    ("homes_count", -1, "homes_count"),
    ("homes_count", None, "homes_count"),
    ("partner_directory", {"police": "Derbyshire Police"}, "partner_directory"),
    ("partner_directory", [{"code": "police"}], "partner_directory"),
    ("partner_directory", [{"code": "bad code!", "name": "X"}], "partner_directory"),
    ("partner_directory", [{"code": "p", "name": "P", "email": "not-an-email"}],
     "partner_directory"),
    ("partner_directory", [{"code": "p", "name": "P", "kinds": ["gossip"]}], "partner_directory"),
    ("partner_directory", [{"code": "p", "name": "P"}, {"code": "p", "name": "Q"}],
     "partner_directory"),
    ("partner_directory", [{"code": "p", "name": "P", "phone": "1"}], "partner_directory"),
    ("postcode_wards", {"Chesterfield": "Spire"}, "postcode_wards"),
    ("postcode_wards", {"S40 1": ""}, "postcode_wards"),
    ("postcode_wards", {"S40 1": "A", "s40 1": "B"}, "postcode_wards"),
    ("postcode_wards", ["S40 1"], "postcode_wards"),
]


@pytest.mark.parametrize(("key", "value", "field"), INVALID)
def test_invalid_values_are_refused_and_nothing_is_written(db_session, key, value, field):
    with pytest.raises(ConfigInvalid) as caught:
        set_setting(db_session, key, value, london(2026, 4, 1), now=fixed_now)
    assert caught.value.field == field
    assert caught.value.message
    assert row_count(db_session) == 0


def test_case_review_threshold_4_is_refused_with_a_reason(db_session):
    with pytest.raises(ConfigInvalid, match="between 1 and 3") as caught:
        set_setting(db_session, "case_review_threshold", 4, london(2026, 4, 1), now=fixed_now)
    assert caught.value.field == "case_review_threshold"
    assert row_count(db_session) == 0
    assert get_setting(db_session, "case_review_threshold", NOW) == 3


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"effective_from": datetime(2026, 4, 1)}, "effective_from"),
    ({"effective_from": "2026-04-01"}, "effective_from"),
    ({"recorded_by": "x" * 65}, "recorded_by"),
    ({"note": "x" * 501}, "note"),
    ({"now": lambda: datetime(2026, 4, 1)}, "now"),
])
def test_bad_arguments_are_refused_and_nothing_is_written(db_session, kwargs, field):
    arguments = {"effective_from": london(2026, 4, 1), "now": fixed_now, **kwargs}
    with pytest.raises(ConfigInvalid) as caught:
        set_setting(db_session, "homes_count", 100, **arguments)
    assert caught.value.field == field
    assert row_count(db_session) == 0


def test_same_key_and_moment_twice_is_refused(db_session):
    set_setting(db_session, "homes_count", 100, london(2026, 4, 1), now=fixed_now)
    with pytest.raises(ConfigInvalid, match="already takes effect") as caught:
        set_setting(db_session, "homes_count", 200, london(2026, 4, 1), now=fixed_now)
    assert caught.value.field == "effective_from"
    assert row_count(db_session) == 1
    assert get_setting(db_session, "homes_count", NOW) == 100


def test_reading_with_a_naive_moment_or_unknown_key_is_refused(db_session):
    with pytest.raises(ConfigInvalid) as caught:
        get_setting(db_session, "homes_count", datetime(2026, 4, 1))
    assert caught.value.field == "at"
    with pytest.raises(ConfigInvalid) as caught:
        get_setting(db_session, "no_such_setting", NOW)
    assert caught.value.field == "key"
    with pytest.raises(ConfigInvalid):
        history(db_session, "no_such_setting")
    with pytest.raises(ConfigInvalid):
        settings_in_force(db_session, datetime(2026, 4, 1))


# Places: postcode normalisation and the ward lookup.

@pytest.mark.parametrize(("raw", "normal"), [
    ("s40 1ab", "S40 1AB"),
    ("  S401AB ", "S40 1AB"),
    ("s40   1ab", "S40 1AB"),
    ("SW1A1AA", "SW1A 1AA"),
    ("s41", "S41"),
    ("not a postcode", None),
    ("", None),
    ("S40 1A", None),
])
def test_normalise_postcode(raw, normal):
    assert normalise_postcode(raw) == normal


def test_ward_lookup_uses_the_longest_matching_prefix(db_session):
    table = {"S": "Area", "S40": "District", "S40 1": "Sector", "S40 1A": "Part",
             "S40 1AB": "Street", "S4": "Sheffield district"}
    set_setting(db_session, "postcode_wards", table, london(2026, 1, 1), now=fixed_now)
    at = london(2026, 6, 1)
    assert ward_for_postcode(db_session, "s40 1ab", at) == "Street"
    assert ward_for_postcode(db_session, "S401AZ", at) == "Part"
    assert ward_for_postcode(db_session, "S40 1BB", at) == "Sector"
    assert ward_for_postcode(db_session, "S40 2BB", at) == "District"
    # "S4" is a district of its own: it must not match inside "S40" or "S41".
    assert ward_for_postcode(db_session, "S4 7AB", at) == "Sheffield district"
    assert ward_for_postcode(db_session, "S41 7AB", at) == "Area"
    assert ward_for_postcode(db_session, "DE1 1AA", at) is None
    assert ward_for_postcode(db_session, "rubbish", at) is None


def test_ward_lookup_uses_the_table_in_force(db_session):
    assert ward_for_postcode(db_session, "s41 7zz", london(2026, 6, 1)) == "Brimington"
    assert ward_for_postcode(db_session, "S40 1ZZ", london(2026, 6, 1)) == "St Helen's"
    assert ward_for_postcode(db_session, "S40 9ZZ", london(2026, 6, 1)) == "Spire"
    set_setting(db_session, "postcode_wards", {"S41 7": "Brimington South"}, london(2027, 5, 1),
                now=fixed_now)
    assert ward_for_postcode(db_session, "S41 7ZZ", london(2027, 4, 30)) == "Brimington"
    assert ward_for_postcode(db_session, "S41 7ZZ", london(2027, 5, 1)) == "Brimington South"
    assert ward_for_postcode(db_session, "S40 1ZZ", london(2027, 5, 1)) is None
    assert ward_for_postcode(db_session, "S41 7ZZ", now=fixed_now) == "Brimington"


def test_case_review_window_may_not_be_shorter_than_the_statutory_six_months(db_session):
    with pytest.raises(ConfigInvalid) as info:
        set_setting(db_session, "case_review_window_months", 5, date(2026, 4, 1))
    assert info.value.field == "case_review_window_months"
    set_setting(db_session, "case_review_window_months", 12, date(2026, 4, 1))
    assert get_setting(db_session, "case_review_window_months", london(2026, 4, 2, 9)) == 12


def test_council_details_need_name_contacts_and_an_address(db_session):
    with pytest.raises(ConfigInvalid) as info:
        set_setting(db_session, "council_details", {"name": "X"}, date(2026, 4, 1))
    assert "phone" in info.value.message
    details = dict(DEFAULTS["council_details"], name="Bolsover District Council")
    set_setting(db_session, "council_details", details, date(2026, 4, 1))
    assert get_setting(db_session, "council_details",
                       london(2026, 4, 2, 9))["name"] == "Bolsover District Council"
