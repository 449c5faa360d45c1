"""Multi-agency case conferences (promise 7): invite, record, and follow each action to done.

``asb_case_conference`` waits for the conference time, asks the officer to record it, then
loops: a timer at the next action's due date (or the next reminder), a check that reminds the
owners of overdue actions, and the officer once an action stays overdue after the reminders.
Owners mark actions done through ``cases.support.complete_conference_action`` (the partner
pages, or the officer at the overdue review); the loop ends when no action is open.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cases.enums import CaseStatus
from cases.records import CaseDataInvalid
from cases.referrals import check_agencies, partner_directory
from cases.support import (
    MAX_ACTION_TEXT,
    MAX_ACTIONS,
    ActionStatus,
    CaseConference,
    ConferenceAction,
    action_owner,
    complete_conference_action,
    conference_actions,
    conference_by_id,
    drop_conference_action,
    record_action_chaser,
    record_conference,
    record_not_held,
    reset_action_reminders,
    schedule_conference,
)
from engine.handlers import ServiceContext

from .common import case_of, iso, moment, pop_text, refuse_as_form, setting, working_days_after
from .registry import handlers
from .stages import register_stage
from .support_mail import send_to_partner, support_setting

LONDON = ZoneInfo("Europe/London")
ACTION_FORMAT = "write it as: action | owner | YYYY-MM-DD"

register_stage("asb_case_conference", "Hold a multi-agency case conference",
               "Invite partner agencies, record who came and the actions agreed, and follow "
               "each action until it is done.", "support")


def _conference(ctx: ServiceContext) -> CaseConference:
    with refuse_as_form():
        return conference_by_id(ctx.session, ctx.data.get("conference_id"), case_of(ctx))


@handlers.register("conference.schedule")
def schedule(ctx: ServiceContext) -> dict[str, Any]:
    """Record the conference with the agencies invited; refuse a past date or unknown agency."""
    try:
        starts = moment(ctx.data.get("conference_at"))
    except (TypeError, ValueError):
        starts = ctx.now   # refused below as not in the future
    with refuse_as_form():
        conference = schedule_conference(
            ctx.session, case_of(ctx), starts_at=starts, venue=ctx.data.get("venue"),
            agencies=ctx.data.get("agencies"), at=ctx.now, by=ctx.actor)
    ctx.data["conference_id"] = conference.id
    ctx.data["conference_at"] = iso(starts)
    return {"conference": conference.id}


@handlers.register("conference.send_invitations")
def send_invitations(ctx: ServiceContext) -> dict[str, Any]:
    """E-mail each invited agency the date, time and venue (no personal details)."""
    case, conference = case_of(ctx), _conference(ctx)
    directory = partner_directory(ctx.session, conference.scheduled_at)
    invited = [directory[code] for code in conference.invited]
    names = [agency["name"] for agency in invited]
    for agency in invited:
        send_to_partner(ctx, case, "conference_invitation", to_address=agency["email"],
                        recipient_name=agency["name"], required=("starts_at", "venue"),
                        facts={"starts_at": conference.starts_at, "venue": conference.venue,
                               "agencies": names})
    return {"invited": len(invited)}


def _due_at(ctx: ServiceContext, text: str) -> datetime:
    day = date.fromisoformat(text)
    hours, minutes = (int(p) for p in str(setting(ctx, "close_of_business")).split(":"))
    return datetime.combine(day, time(hours, minutes), LONDON).astimezone(UTC)


def parse_actions(ctx: ServiceContext, lines: Any) -> list[dict[str, Any]]:
    """Read "action | owner | YYYY-MM-DD" lines; refuse each bad line by its number."""
    if not isinstance(lines, list) or len(lines) > MAX_ACTIONS:
        raise CaseDataInvalid("actions", f"give at most {MAX_ACTIONS} actions, one a line")
    errors: dict[str, str] = {}
    actions = []
    today = ctx.now.astimezone(LONDON).date()
    for i, line in enumerate(lines):
        parts = [p.strip() for p in str(line).split("|")]
        where = f"actions.{i}"
        if len(parts) != 3 or not all(parts):
            errors[where] = f"line {i + 1}: {ACTION_FORMAT}"
            continue
        text, owner, due = parts
        if len(text) > MAX_ACTION_TEXT:
            errors[where] = f"line {i + 1}: describe the action in {MAX_ACTION_TEXT} characters"
            continue
        try:
            kind, name, email = action_owner(ctx.session, owner, ctx.now)
            due_at = _due_at(ctx, due)
        except CaseDataInvalid as exc:
            errors[where] = f"line {i + 1}: {exc.message}"
            continue
        except ValueError:
            errors[where] = f"line {i + 1}: the due date must be a date as YYYY-MM-DD"
            continue
        if due_at.astimezone(LONDON).date() < today:
            errors[where] = f"line {i + 1}: the due date must not be in the past"
            continue
        actions.append({"action": text, "owner": owner, "owner_kind": kind, "owner_name": name,
                        "owner_email": email, "due_at": due_at})
    if errors:
        raise CaseDataInvalid(errors)
    return actions


def _collect(errors: dict[str, str], check: Any) -> Any:
    try:
        return check()
    except CaseDataInvalid as exc:
        errors.update(exc.errors)
        return None


@handlers.register("conference.record")
def record(ctx: ServiceContext) -> dict[str, Any]:
    """Record the conference held (or not): attendance, disclosures, summary and actions."""
    conference = _conference(ctx)
    summary = ctx.data.get("summary")
    if not ctx.data.get("held"):
        with refuse_as_form():
            record_not_held(ctx.session, conference, by=ctx.actor, at=ctx.now, reason=summary)
        ctx.data["conference_next"] = "reschedule"
        pop_text(ctx, "summary", "attendees", "actions")
        return {"held": False}
    errors: dict[str, str] = {}
    attendees = _collect(errors, lambda: check_agencies(
        ctx.session, ctx.data.get("attendees") or [], ctx.now, field="attendees",
        need_email=False))
    actions = _collect(errors, lambda: parse_actions(ctx, ctx.data.get("actions") or []))
    if not ctx.data.get("legal_basis"):
        errors["legal_basis"] = "say on what legal basis the case was discussed"
    with refuse_as_form():
        if errors:
            raise CaseDataInvalid(errors)
        rows = record_conference(ctx.session, conference, by=ctx.actor, at=ctx.now,
                                 attendees=attendees, summary=summary,
                                 legal_basis=ctx.data["legal_basis"], actions=actions)
    ctx.data["conference_next"] = "track" if rows else "done"
    if rows:
        ctx.data["next_action_check"] = iso(min(row.due_at for row in rows))
    pop_text(ctx, "summary", "actions")
    return {"held": True, "actions": len(rows)}


def _open_actions(session: Session, conference: CaseConference) -> list[ConferenceAction]:
    return [a for a in session.scalars(conference_actions(conference))
            if a.status is ActionStatus.OPEN]


def _remind(ctx: ServiceContext, conference: CaseConference, action: ConferenceAction) -> None:
    if action.owner_email:
        send_to_partner(ctx, case_of(ctx), "conference_action_reminder",
                        to_address=action.owner_email, recipient_name=action.owner_name,
                        required=("action", "due"),
                        facts={"action_number": action.number, "action": action.action,
                               "due": action.due_at, "conference_on": conference.starts_at})
    record_action_chaser(ctx.session, action, ctx.now, sent=bool(action.owner_email))


@handlers.register("conference.check_actions")
def check_actions(ctx: ServiceContext) -> dict[str, Any]:
    """Remind the owners of overdue actions; ask the officer when reminders did not help."""
    conference = _conference(ctx)
    still_open = _open_actions(ctx.session, conference)
    if not still_open or case_of(ctx).status is CaseStatus.CLOSED:
        ctx.data["conference_next"] = "done"
        return {"open": len(still_open)}
    interval = support_setting(ctx, "conference_chaser_working_days", conference.recorded_at)
    most = support_setting(ctx, "conference_max_chasers", conference.recorded_at)
    escalate, reminded, upcoming = [], 0, []
    for action in still_open:
        if action.due_at >= ctx.now:
            upcoming.append(action.due_at)
            continue
        next_reminder = (working_days_after(ctx, action.last_chased_at, interval)
                         if action.last_chased_at else ctx.now)
        if next_reminder > ctx.now:
            upcoming.append(next_reminder)
        elif action.chasers_sent >= most:
            escalate.append(action.number)
        else:
            _remind(ctx, conference, action)
            reminded += 1
            upcoming.append(working_days_after(ctx, ctx.now, interval))
    ctx.data["conference_next"] = "escalate" if escalate else "wait"
    ctx.data["overdue_actions"] = escalate
    later = [moment_ for moment_ in upcoming if moment_ > ctx.now]
    ctx.data["next_action_check"] = iso(min(later) if later
                                        else working_days_after(ctx, ctx.now, 1))
    return {"open": len(still_open), "reminded": reminded, "overdue": escalate}


@handlers.register("conference.record_review")
def record_review(ctx: ServiceContext) -> dict[str, Any]:
    """Record the officer's follow-up: actions now done, and whether to keep following them."""
    conference = _conference(ctx)
    by_number = {a.number: a for a in _open_actions(ctx.session, conference)}
    errors: dict[str, str] = {}
    done = []
    for i, given in enumerate(ctx.data.get("done_actions") or []):
        number = int(given) if str(given).strip().isdecimal() else None
        if number not in by_number:
            errors[f"done_actions.{i}"] = f"line {i + 1}: {given} is not an open action"
        else:
            done.append(by_number.pop(number))
    note = ctx.data.get("note")
    with refuse_as_form():
        if errors:
            raise CaseDataInvalid(errors)
        for action in done:
            complete_conference_action(ctx.session, action, by=ctx.actor, at=ctx.now,
                                       note=note)
        if ctx.data.get("decision") == "stop_tracking":
            for action in by_number.values():
                drop_conference_action(ctx.session, action, by=ctx.actor, at=ctx.now,
                                       note=note)
        else:
            reset_action_reminders(ctx.session, conference, list(by_number.values()),
                                   by=ctx.actor, at=ctx.now)
    pop_text(ctx, "note", "done_actions")
    return {"done": [a.number for a in done], "decision": ctx.data.get("decision")}
