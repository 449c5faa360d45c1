"""Settings documented as environment variables reach the modules that read them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from web import ConfigError, create_app


def _app(tmp_path):
    return create_app({"SECRET_KEY": "test-only-key", "START_WORKER": False,
                       "DATABASE_URL": f"sqlite:///{tmp_path}/env.sqlite"})


def test_environment_settings_are_read_under_their_documented_names(tmp_path, monkeypatch):
    monkeypatch.setenv("ASB_REPORTER_ACCESS_DAYS", "30")
    monkeypatch.setenv("ASB_SIGN_IN_RATE", "3 per minute")
    monkeypatch.setenv("ASB_DASHBOARD_MAX_AGE_SECONDS", "60")
    monkeypatch.setenv("ASB_IDLE_TIMEOUT", "15")
    monkeypatch.setenv("ASB_ABSOLUTE_TIMEOUT", "480")
    monkeypatch.setenv("ASB_REQUIRE_TOTP", "false")
    config = _app(tmp_path).config
    assert config["ASB_REPORTER_ACCESS_DAYS"] == 30
    assert config["ASB_SIGN_IN_RATE"] == "3 per minute"
    assert config["ASB_DASHBOARD_MAX_AGE_SECONDS"] == 60
    assert config["ASB_IDLE_TIMEOUT"] == timedelta(minutes=15)
    assert config["ASB_ABSOLUTE_TIMEOUT"] == timedelta(hours=8)
    assert config["ASB_REQUIRE_TOTP"] is False


def test_without_the_environment_the_defaults_hold(tmp_path):
    config = _app(tmp_path).config
    assert config["ASB_IDLE_TIMEOUT"] == timedelta(minutes=30)
    assert config["ASB_ABSOLUTE_TIMEOUT"] == timedelta(hours=10)
    assert config["ASB_REQUIRE_TOTP"] is True


def test_a_timeout_that_is_not_a_number_stops_the_start(tmp_path, monkeypatch):
    monkeypatch.setenv("ASB_IDLE_TIMEOUT", "half an hour")
    with pytest.raises(ConfigError, match="ASB_IDLE_TIMEOUT must be a number of minutes"):
        _app(tmp_path)
