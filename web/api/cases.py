"""Cases: open one from a report, read it and its tasks, add an incident."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import jsonify
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.records import CaseDataInvalid, CaseNotFound, CaseStatusConflict
from engine import clock
from engine.models import HumanTask
from tasks import cases_service
from web.access import CASE_OPENERS
from web.extensions import case_engine, db

from . import serializers
from .common import audit, caller, json_object, require_role, visible_case
from .errors import ApiError
from .pagination import paginate

LONDON = ZoneInfo("Europe/London")
FUTURE_SLACK = timedelta(minutes=5)


def parse_time(value: Any, field: str) -> datetime:
    """An ISO 8601 time from the client; one without an offset is Europe/London."""
    if not isinstance(value, str):
        raise ApiError(422, f"{field} must be a time", {field: "must be an ISO 8601 date-time"})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(422, f"{field} must be a time",
                       {field: "must be an ISO 8601 date-time"}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment


def create_case() -> tuple[Response, int]:
    """``POST /cases``: record a report and start its lifecycle; priority decided on the way."""
    user = require_role(CASE_OPENERS, "your role may not open cases")
    body = json_object()
    now = clock.now()
    received_at = now
    if body.get("received_at") is not None:
        received_at = parse_time(body["received_at"], "received_at")
        if received_at > now + FUTURE_SLACK:
            raise ApiError(422, "received_at is in the future",
                           {"received_at": "must not be in the future"})
    session = db()
    try:
        case = cases_service.open_case(session, case_engine(), body, actor=user.name,
                                       received_at=received_at)
    except CaseDataInvalid as exc:
        raise ApiError(422, "the report has invalid fields", exc.errors) from None
    audit(session, "api.case_opened", "case", str(case.id), case_reference=case.reference,
          priority=case.priority, channel=str(case.channel))
    return jsonify(serializers.case_summary(session, case)), 201


def get_case(reference: str) -> Response:
    """``GET /cases/{reference}``."""
    session = db()
    case = visible_case(session, caller(), reference)
    audit(session, "case.viewed", "case", str(case.id), case_reference=case.reference)
    return jsonify(serializers.case_detail(session, case))


def case_tasks(reference: str) -> Response:
    """``GET /cases/{reference}/tasks``: open, completed and cancelled, by due date then id."""
    session = db()
    case = visible_case(session, caller(), reference)
    stmt = (select(HumanTask).where(HumanTask.business_key == case.reference)
            .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id))
    page = paginate(session, stmt, serializers.task)
    audit(session, "case.tasks_viewed", "case", str(case.id), case_reference=case.reference)
    return jsonify(page)


def add_incident(reference: str) -> tuple[Response, int]:
    """``POST /cases/{reference}/incidents``: to the open case, a re-opened one, or a new one."""
    session = db()
    user = caller()
    case = visible_case(session, user, reference)
    body = json_object()
    try:
        outcome = cases_service.receive_incident(session, case_engine(), case.reference, body,
                                                 actor=user.name)
    except CaseDataInvalid as exc:
        raise ApiError(422, "the incident has invalid fields", exc.errors) from None
    except CaseStatusConflict as exc:
        raise ApiError(409, str(exc)) from None
    except CaseNotFound:
        raise ApiError(404, "no such case") from None
    received = outcome.case
    audit(session, "api.incident_received", "case", str(received.id),
          case_reference=received.reference, outcome=outcome.how, sent_to=case.reference)
    return jsonify({"case": received.reference, "outcome": outcome.how,
                    "status": str(received.status), "linked_from": received.linked_from}), 201
