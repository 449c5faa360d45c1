"""The reporters' door: the officer pages' app with the shipped diagrams and demo people."""

from tests.officer.conftest import api, signed_in  # noqa: F401 - shared fixtures
