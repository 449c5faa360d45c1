"""The access records on both databases: hashes only, one case per code, counted failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cases.reporter_access import (
    AccessRefused,
    ReporterAccess,
    access_by_code,
    access_by_token,
    clear_failures,
    failures,
    issue_access,
    record_failure,
)
from tests.lifecycle_support import new_life

NOW = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)


def test_codes_and_links_are_stored_hashed_and_open_one_case(db_session):
    life = new_life(db_session)
    first, second = life.open(NOW), life.open(NOW)
    issued = issue_access(db_session, first, by="test", at=NOW)
    row = db_session.get(ReporterAccess, issued.access.id)
    assert issued.code not in (row.code_hash, row.token_hash)
    assert issued.token not in (row.code_hash, row.token_hash)
    assert access_by_code(db_session, first.reference, issued.code.lower(), NOW)[1] is first
    assert access_by_token(db_session, issued.token, NOW)[1] is first
    with pytest.raises(AccessRefused):
        access_by_code(db_session, second.reference, issued.code, NOW)
    again = issue_access(db_session, first, by="test", at=NOW)
    with pytest.raises(AccessRefused):
        access_by_token(db_session, issued.token, NOW)
    assert access_by_token(db_session, again.token, NOW)[1] is first


def test_failures_are_counted_per_address_and_reference(db_session):
    for _ in range(3):
        record_failure(db_session, ip="203.0.113.9", reference="asb-2026-000001", at=NOW)
    since = NOW - timedelta(minutes=15)
    assert failures(db_session, "reference", "ASB-2026-000001", since) == 3
    assert failures(db_session, "reference", "ASB-2026-000001", NOW + timedelta(seconds=1)) == 0
    clear_failures(db_session, "ASB-2026-000001")
    assert failures(db_session, "reference", "ASB-2026-000001", since) == 0
