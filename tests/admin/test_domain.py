"""What the admin pages stand on, on SQLite and PostgreSQL: ``cases.staff`` and the scheduling
of council settings in ``cases.config`` (whose validators now live in ``cases.config_values``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from cases import config, config_values, staff
from cases.people import (
    ApiToken,
    PeopleError,
    Role,
    create_user,
    ensure_agency,
    ensure_team,
    issue_token,
    revoke_token,
    user_for_token,
)

NOW = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)


def fixed_now() -> datetime:
    return NOW


def test_cases_config_still_offers_everything_it_did():
    for name in ("DEFAULTS", "VALIDATORS", "PARTNER_KINDS", "ConfigInvalid", "validate"):
        assert getattr(config, name) is getattr(config_values, name)
    assert config.normalise_postcode("s401ab") == "S40 1AB"


@pytest.mark.parametrize(("key", "value"), [
    ("partner_directory", [{"code": "x", "name": "X", "kinds": [{}]}]),
    ("postcode_wards", {"S40": ["a list"]}),
    ("first_contact_working_days", {"1": [[[[[]]]]], "2": 5}),
])
def test_odd_shapes_are_refused_not_crashed_on(key, value):
    with pytest.raises(config.ConfigInvalid) as refused:
        config.validate(key, value)
    assert refused.value.field == key


def test_a_value_nested_deeper_than_python_recurses_is_refused():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(config.ConfigInvalid, match="shape"):
        config.validate("partner_directory", deep)


def test_a_value_scheduled_for_today_applies_from_now_never_earlier(db_session):
    row = config.schedule_setting(db_session, "homes_count", 10, date(2026, 12, 24), "adam",
                                  now=fixed_now)
    assert row.effective_from == NOW
    assert config.get_setting(db_session, "homes_count", NOW - timedelta(seconds=1)) == 0
    assert config.get_setting(db_session, "homes_count", NOW) == 10


def test_a_later_day_starts_at_midnight_in_london(db_session):
    row = config.schedule_setting(db_session, "homes_count", 10, date(2027, 6, 1), "adam",
                                  now=fixed_now)
    assert row.effective_from == datetime(2027, 5, 31, 23, 0, tzinfo=UTC)  # BST


def test_a_day_in_the_past_is_refused(db_session):
    with pytest.raises(config.ConfigInvalid) as refused:
        config.schedule_setting(db_session, "homes_count", 10, date(2026, 12, 23), "adam",
                                now=fixed_now)
    assert refused.value.field == "effective_from"
    assert config.history(db_session, "homes_count") == []


def test_only_a_value_not_yet_in_force_can_be_withdrawn(db_session):
    later = config.schedule_setting(db_session, "homes_count", 10, date(2027, 1, 1), "adam",
                                    now=fixed_now)
    today = config.schedule_setting(db_session, "homes_count", 5, date(2026, 12, 24), "adam",
                                    now=fixed_now)
    with pytest.raises(config.ConfigInvalid, match="has taken effect"):
        config.cancel_scheduled(db_session, today.id, now=fixed_now)
    with pytest.raises(config.ConfigInvalid):
        config.cancel_scheduled(db_session, 999_999, now=fixed_now)
    assert config.cancel_scheduled(db_session, later.id, now=fixed_now).value == 10
    assert [r.value for r in config.history(db_session, "homes_count")] == [5]


def test_disabling_revokes_live_tokens_only_and_enabling_keeps_them_revoked(db_session):
    user = create_user(db_session, "dora", Role.OFFICER)
    old, live = issue_token(db_session, user), issue_token(db_session, user)
    revoke_token(db_session, old, now=NOW - timedelta(days=1))
    assert staff.disable_user(db_session, user, now=NOW) == 1
    assert user.active is False and user_for_token(db_session, live, NOW) is None
    revoked = db_session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == user.id)
                                 .order_by(ApiToken.id)).all()
    assert revoked == [NOW - timedelta(days=1), NOW]
    staff.enable_user(db_session, user)
    assert user.active is True and user_for_token(db_session, live, NOW) is None
    assert staff.live_token_count(db_session, user) == 0


def test_update_user_reports_what_changed_and_partners_need_an_agency(db_session):
    police = ensure_agency(db_session, "police", "Police")
    north, south = ensure_team(db_session, "North"), ensure_team(db_session, "South")
    user = create_user(db_session, "dora", Role.OFFICER, team=north, display_name="Dora")
    with pytest.raises(PeopleError) as refused:
        staff.update_user(db_session, user, display_name="Dora", email=None, phone=None,
                          role=Role.PARTNER, team=north, agency=None, areas=[])
    assert refused.value.field == "agency" and user.role is Role.OFFICER
    changes = staff.update_user(db_session, user, display_name="Dora P", email=None,
                                phone=None, role=Role.PARTNER, team=south, agency=police,
                                areas=[])
    assert changes == {"display_name": ("Dora", "Dora P"), "role": ("officer", "partner"),
                       "team": ("North", "South"), "agency": (None, "Police")}


def test_renaming_a_team_refuses_a_name_another_team_has(db_session):
    north, _ = ensure_team(db_session, "North"), ensure_team(db_session, "South")
    with pytest.raises(PeopleError, match="already exists"):
        staff.rename_team(db_session, north, "south")
    assert staff.rename_team(db_session, north, "North East") == "North"
    assert north.name == "North East"


def test_names_are_unique_whatever_the_letter_case(db_session):
    staff.add_team(db_session, "East")
    staff.add_area(db_session, "Spire", "E1")
    staff.add_agency(db_session, "fire", "Fire", "asb@fire.example.org")
    for call, field in ((lambda: staff.add_team(db_session, "EAST"), "name"),
                        (lambda: staff.add_area(db_session, "SPIRE"), "name"),
                        (lambda: staff.add_area(db_session, "Walton", "e1"), "code"),
                        (lambda: staff.add_agency(db_session, "FIRE", "Other"), "code"),
                        (lambda: staff.add_agency(db_session, "fire2", "fire"), "name"),
                        (lambda: staff.add_agency(db_session, "x y", "X"), "code"),
                        (lambda: staff.add_agency(db_session, "x", "X", "nope"), "email")):
        with pytest.raises(PeopleError) as refused:
            call()
        assert refused.value.field == field
