"""Case conference actions the partner's agency owns: listed, progress recorded, marked done."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cases.partner_access import PartnerNote
from cases.support import ActionStatus, ConferenceAction
from engine import clock
from engine.models import HumanTask, TaskStatus
from tasks.stages import start_stage
from tests.api.support import XMAS_EVE
from web.extensions import unit

from .conftest import audits, mails, new_case, paul

ACTIONS = ["Patrol Mill Lane on Friday nights | police | 2027-01-15",
           "Visit the family | youth | 2027-01-15"]


def _complete(api, session, reference, name, data):
    engine = api.app.extensions["asb"]["engine"]
    (task,) = session.scalars(select(HumanTask).where(
        HumanTask.business_key == reference, HumanTask.name == name,
        HumanTask.state == TaskStatus.OPEN)).all()
    engine.complete(session, task.id, data, "olivia")


def held_conference(api, reference):
    """A conference held on 29 December with one action for the police, one for youth."""
    engine = api.app.extensions["asb"]["engine"]
    with api.app.app_context(), unit() as session:
        start_stage(session, engine, reference, "asb_case_conference", actor="olivia")
        _complete(api, session, reference, "schedule_conference", {
            "conference_at": "2026-12-29T10:00:00+00:00", "agencies": ["police", "youth"],
            "venue": "Room 2, Town Hall"})
    clock.set_now(XMAS_EVE + timedelta(days=5, hours=1))
    with api.app.app_context(), unit() as session:
        while engine.fire_due_timers(session, limit=100):
            pass
    with api.app.app_context(), unit() as session:
        _complete(api, session, reference, "record_conference", {
            "held": True, "attendees": ["police", "youth"], "summary": "Agreed patrols.",
            "legal_basis": "crime_and_disorder_act_s115", "actions": ACTIONS})
        rows = session.scalars(select(ConferenceAction).order_by(ConferenceAction.number))
        return [row.id for row in rows]


def _action(api, action_id):
    with api.app.app_context(), unit() as session:
        row = session.get(ConferenceAction, action_id)
        session.expunge(row)
        return row


def test_the_partner_sees_their_agencys_actions_and_marks_them_done(api):
    reference = new_case(api)
    police, youth = held_conference(api, reference)
    client = paul(api)
    page = client.text("/partner")
    assert "Patrol Mill Lane on Friday nights" in page and reference in page
    assert "Visit the family" not in page
    refused = client.post(f"/partner/actions/{police}", {"do": "progress", "progress": ""})
    assert refused.status_code == 400 and "There is a problem" in refused.get_data(as_text=True)
    assert client.post(f"/partner/actions/{police}",
                       {"do": "progress", "progress": "First patrol on Friday."}
                       ).status_code == 302
    with api.app.app_context(), unit() as session:
        (note,) = session.scalars(select(PartnerNote)).all()
        assert (note.action_id, note.body, note.by) == (police, "First patrol on Friday.", "paul")
    assert _action(api, police).status is ActionStatus.OPEN
    assert client.post(f"/partner/actions/{police}",
                       {"do": "done", "progress": "Four patrols, all quiet."}).status_code == 302
    row = _action(api, police)
    assert (row.status, row.done_by, row.note) == (
        ActionStatus.DONE, "paul", "Four patrols, all quiet.")
    assert [a.actor for a in audits(api, "conference.action_done")] == ["paul"]
    assert [a.actor for a in audits(api, "partner.progress")] == ["paul"]
    assert len(mails(api, "partner_update")) == 2
    assert client.post(f"/partner/actions/{police}", {"do": "done"}).status_code == 400
    # Another agency's action: 404, audited, unchanged.
    assert client.post(f"/partner/actions/{youth}", {"do": "done"}).status_code == 404
    assert _action(api, youth).status is ActionStatus.OPEN
    (attempt,) = audits(api, "partner.refused")
    assert (attempt.object_type, attempt.object_id) == ("conference_action", str(youth))
