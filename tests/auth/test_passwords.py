"""Weak, common and breached passwords are refused wherever a password is set."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner

from cases.password_policy import WeakPassword, check_password_strength, common_passwords
from cases.people import PeopleError, create_user
from web.cli import main

GOOD = "correct horse battery staple"


def test_the_bundled_list_holds_ten_thousand_common_passwords():
    listed = common_passwords()
    assert len(listed) == 10_000
    assert {"password", "123456", "qwerty", "letmein", "1qaz2wsx3edc"} <= listed


@pytest.mark.parametrize("password", [
    "password1234", "Password123456!", "123456789012", "1qaz2wsx3edc", "qwertyqwerty",
    "aaaaaaaaaaaa", "abcabcabcabc", "  letmein2024!!", "Dragon.Dragon.Dragon", "sunshine-xyz",
    "Superman_12345",
])
def test_common_and_padded_common_passwords_are_refused(password):
    with pytest.raises(WeakPassword, match="too common"):
        check_password_strength(password)


@pytest.mark.parametrize(("password", "context"), [
    ("olivia.officer2027", ("olivia.officer", "Olivia Officer")),
    ("OliviaOfficer!!!", ("olivia.officer", "Olivia Officer")),
    ("Chesterfield2027!", ()),  # the council's name (the shipped default)
    ("Wardington-2024!", ("Wardington Council",)),
])
def test_passwords_built_on_names_are_refused(password, context):
    with pytest.raises(WeakPassword, match="must not be based on your name"):
        check_password_strength(password, context)


@pytest.mark.parametrize("password", [
    GOOD, "x7#kQ!pz0Lm2", "tulips in the rain at dawn", "a" + "b1c2d3e4" * 8,
    "p" * 2 + "assphrase with spaces and no digits", "ünïcödé pässwörd fïnë", "y" * 0 + "Z" * 1
    + "9" * 1 + "q4v8n2m6k0j3",
])
def test_long_passwords_need_no_particular_characters(password):
    check_password_strength(password, ("olivia.officer", "Olivia Officer"))


def test_length_limits_are_12_and_1024():
    with pytest.raises(WeakPassword, match="at least 12"):
        check_password_strength("plum ox jaz")
    check_password_strength("plum ox jazz")
    check_password_strength("tulip rain " * 93 + "x")  # 1024 characters
    with pytest.raises(WeakPassword, match="at most 1024"):
        check_password_strength("tulip rain " * 93 + "xy")


def test_creating_a_user_with_a_common_password_changes_nothing(db_session):
    with pytest.raises(PeopleError) as refused:
        create_user(db_session, "nina.new", "officer", password="password12345")
    assert refused.value.field == "password"
    with pytest.raises(PeopleError, match="based on your name"):
        create_user(db_session, "nina.new", "officer", password="nina.new.2027!",
                    display_name="Nina New")


def test_the_cli_refuses_a_common_password(tmp_path, monkeypatch):
    from engine.database import make_engine
    from migrations.runner import upgrade

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["users", "add", "nina.new", "--role", "officer",
                                       "--password", "iloveyou12345"])
    assert result.exit_code == 2 and "too common" in result.output
    ok = CliRunner().invoke(main, ["users", "add", "nina.new", "--role", "officer",
                                   "--password", GOOD])
    assert ok.exit_code == 0, ok.output


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest().upper()


def range_answer(*breached: str) -> str:
    """A range-service answer for the prefix: the breached suffixes, and padding."""
    lines = [f"{sha1(p)[5:]}:{n}" for n, p in enumerate(breached, start=3)]
    lines.append("0" * 35 + ":0")
    return "\r\n".join(lines)
