"""Assignment: a named case officer for every case, chosen by area and workload."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases.operations import assign_officer as record_assignment
from cases.operations import open_cases_by_officer
from cases.people import Role, User
from engine.errors import BpmnError
from engine.handlers import ServiceContext

from .common import case_of
from .registry import handlers


def _officers(ctx: ServiceContext) -> list[User]:
    return list(ctx.session.scalars(select(User).where(
        User.role == Role.OFFICER, User.active.is_(True)).order_by(User.name)))


def _team_leader(ctx: ServiceContext, officer: User) -> User | None:
    return ctx.session.scalars(select(User).where(
        User.role == Role.TEAM_LEADER, User.active.is_(True),
        User.team_id == officer.team_id).order_by(User.name)).first()


def choose_officer(ctx: ServiceContext, area: str | None) -> User:
    """The officer covering ``area`` with the fewest open cases; else any, the same way."""
    officers = _officers(ctx)
    if not officers:
        raise BpmnError("no_officer", "there is no active officer to assign the case to")
    covering = [o for o in officers if area and any(a.name == area for a in o.areas)]
    load = open_cases_by_officer(ctx.session)
    pool = covering or officers
    return min(pool, key=lambda o: (load.get(o.name, 0), o.name))


@handlers.register("assignment.assign_officer")
def assign_officer(ctx: ServiceContext) -> dict[str, Any]:
    """Give the case its case officer (kept on re-opening) and note their team leader."""
    case = case_of(ctx)
    officer = None
    if case.case_officer:
        officer = ctx.session.scalar(select(User).where(User.name == case.case_officer))
    if officer is None or not officer.active:
        officer = choose_officer(ctx, ctx.data.get("area") or case.area)
        record_assignment(ctx.session, case, officer.name, officer.team.name if officer.team
                          else None, at=ctx.now, by=ctx.actor)
    leader = _team_leader(ctx, officer)
    ctx.data["case_officer"] = officer.name
    ctx.data["team_leader"] = leader.name if leader else None
    return {"case_officer": officer.name}


@handlers.register("assignment.current_officer")
def current_officer(ctx: ServiceContext) -> dict[str, Any]:
    """Read the case officer and team leader from the case record into the step's data."""
    case = case_of(ctx)
    officer = ctx.session.scalar(select(User).where(User.name == case.case_officer)
                                 ) if case.case_officer else None
    leader = _team_leader(ctx, officer) if officer is not None else None
    ctx.data["case_officer"] = case.case_officer
    ctx.data["team_leader"] = leader.name if leader else None
    return {"case_officer": case.case_officer}
