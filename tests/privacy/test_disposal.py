"""Disposal of a case driven through the real processes: no personal data left, figures kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.figures import read_filters
from cases.operations import case_by_reference
from cases.records import CaseParty, PartyRole, Person
from cases.retention import RetentionError, clear_hold, review_list, set_hold
from engine.models import ProcessInstance
from tasks.consistency import check_system
from tasks.files import LocalFileStore, StoredFileMissing
from tasks.retention import dispose_case, dispose_due
from tests.privacy.support import (
    AFTER_RETENTION,
    PEOPLE_STRINGS,
    closed_case,
    where_found,
)
from web import create_app

NOW = datetime(2034, 1, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def figures(tmp_path):
    """The dashboard's figures of the whole period, worked out from a given session."""
    app = create_app({"SECRET_KEY": "test", "START_WORKER": False,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"})

    def work_out(session):
        with app.test_request_context("/dashboard"):
            return _figures(session)
    return work_out


def _figures(session):
    from web.manager.dashboard import build_dashboard  # after create_app: its imports in order

    filters = read_filters({"from": "2026-01", "to": "2027-12"}, NOW, areas=["St Helen's"],
                           teams=["North"])
    return [(t.key, [[str(cell) for cell in row] for row in t.rows])
            for _title, tables in build_dashboard(session, filters) for t in tables]


def test_a_real_case_anonymised_keeps_no_personal_data_and_the_same_figures(db_session, tmp_path,
                                                                            figures):
    store = LocalFileStore(tmp_path / "files")
    life, ref = closed_case(db_session, store)
    assert where_found(db_session, PEOPLE_STRINGS), "the case should hold the strings at first"
    (stored,) = list((tmp_path / "files").iterdir())
    before = figures(db_session)

    done = dispose_case(db_session, case_by_reference(db_session, ref), store, by="maria",
                        at=NOW, today=AFTER_RETENTION)
    db_session.flush()
    assert stored.exists()  # the file goes only once the disposal is committed
    db_session.commit()

    assert where_found(db_session, PEOPLE_STRINGS) == []
    assert done.files_deleted == 1 and not stored.exists()
    with pytest.raises(StoredFileMissing):
        store.path_of(stored.name)
    assert figures(db_session) == before
    case = case_by_reference(db_session, ref)
    assert (str(case.status), str(case.category), case.priority, case.area) == (
        "closed", "nuisance", 2, "St Helen's")
    for instance in db_session.scalars(select(ProcessInstance).where(
            ProcessInstance.business_key == ref)):
        state = json.loads(instance.state_json)
        assert state["data"]["case_reference"] == ref and state["data"]["outcome"] == "[removed]"
        assert life.engine.load(instance, db_session) is not None  # still a readable workflow
    (event,) = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "retention.disposed"))
    assert event.actor == "maria" and event.summary["rows"]["case_incidents"] == 1
    # asb check does not take the disposed case's deleted file for a lost one
    report = check_system(db_session, life.engine, store=store, now=NOW)
    assert report.missing_files == [] and report.files_checked == 0
    assert report.strays is not None and report.strays.listed == 0
    assert review_list(db_session, AFTER_RETENTION) == []


def test_a_legal_hold_stops_disposal_until_cleared(db_session, tmp_path):
    store = LocalFileStore(tmp_path / "files")
    _life, ref = closed_case(db_session, store)
    case = case_by_reference(db_session, ref)
    hold = set_hold(db_session, case, "Civil claim by Dave Lowther pending", by="maria", at=NOW)
    (row,) = review_list(db_session, AFTER_RETENTION)
    assert row.hold is hold and not row.due
    assert dispose_due(db_session, store, by="system", at=NOW, today=AFTER_RETENTION) == []
    with pytest.raises(RetentionError, match="legal hold"):
        dispose_case(db_session, case, store, by="maria", at=NOW, today=AFTER_RETENTION)
    assert where_found(db_session, ("Rita Reporter",))
    with pytest.raises(RetentionError, match="already on legal hold"):
        set_hold(db_session, case, "again", by="maria", at=NOW)
    clear_hold(db_session, case, "Claim settled", by="maria", at=NOW)
    (done,) = dispose_due(db_session, store, by="system", at=NOW, today=AFTER_RETENTION)
    assert done.reference == ref
    assert where_found(db_session, ("Rita Reporter", "Dave Lowther", "Claim settled")) == []
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.case_reference == ref, AuditEvent.action.like("retention.%"))
        .order_by(AuditEvent.id))]
    assert actions == ["retention.hold_set", "retention.hold_cleared", "retention.disposed"]


def test_a_case_inside_its_retention_period_is_not_disposed(db_session, tmp_path):
    store = LocalFileStore(tmp_path / "files")
    _life, ref = closed_case(db_session, store)
    case = case_by_reference(db_session, ref)
    assert review_list(db_session, case.retention_until) == []
    with pytest.raises(RetentionError, match="is kept until"):
        dispose_case(db_session, case, store, by="maria", at=NOW, today=case.retention_until)
    with pytest.raises(RetentionError, match="Give the reason"):
        set_hold(db_session, case, "   ", by="maria", at=NOW)
    assert where_found(db_session, ("Rita Reporter",))


def test_a_person_another_live_case_refers_to_is_kept(db_session, tmp_path):
    store = LocalFileStore(tmp_path / "files")
    life, ref = closed_case(db_session, store)
    old = case_by_reference(db_session, ref)
    reporter = db_session.scalars(select(CaseParty).where(
        CaseParty.case_id == old.id, CaseParty.role == PartyRole.REPORTER)).one().person
    newer = life.open(datetime(2027, 6, 1, 9, 0, tzinfo=UTC))
    db_session.add(CaseParty(case_id=newer.id, person_id=reporter.id, role=PartyRole.WITNESS))
    db_session.flush()
    done = dispose_case(db_session, old, store, by="maria", at=NOW, today=AFTER_RETENTION)
    assert done.counts["persons_kept_for_other_cases"] == 1
    assert db_session.get(Person, reporter.id).name == "Rita Reporter"
    (incident,) = case_by_reference(db_session, ref).incidents
    assert incident.description == "[removed]" and incident.ward == "St Helen's"


def test_a_disposal_rolled_back_keeps_its_files_and_a_later_commit_does_not_delete_them(
        db_session, tmp_path):
    store = LocalFileStore(tmp_path / "files")
    _life, ref = closed_case(db_session, store)
    db_session.commit()
    (stored,) = list((tmp_path / "files").iterdir())
    dispose_case(db_session, case_by_reference(db_session, ref), store, by="maria", at=NOW,
                 today=AFTER_RETENTION)
    db_session.rollback()  # say the commit failed: the case and its records are as they were
    assert stored.exists()
    assert where_found(db_session, PEOPLE_STRINGS)
    db_session.commit()  # the same session's next transaction deletes nothing of it
    assert stored.exists()
