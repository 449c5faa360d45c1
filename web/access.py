"""Object-level access rules shared by the API and the pages: who may see a case or act on a task.

A caller who may not know an object exists gets 404; one who may see it but not do this, 403.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from cases import people
from cases.people import Role, User
from cases.records import Case
from engine.models import HumanTask

ALL_CASES = (Role.MANAGER, Role.ADMIN)
DIAGRAM_EDITORS = (Role.PROCESS_OWNER, Role.ADMIN)
DIAGRAM_READERS = (Role.PROCESS_OWNER, Role.ADMIN, Role.MANAGER)
CASE_OPENERS = (Role.OFFICER, Role.TEAM_LEADER, Role.MANAGER, Role.ADMIN)


def _team_name(user: User) -> str | None:
    return user.team.name if user.team is not None else None


def case_filter(user: User) -> ColumnElement[bool]:
    """The SQL condition on ``Case`` that selects the cases ``user`` may see."""
    if not user.active:
        return false()
    if user.role in ALL_CASES:
        return Case.id.is_not(None)
    team = _team_name(user)
    if user.role is Role.TEAM_LEADER:
        return or_(Case.team == team, Case.case_officer == user.name)
    if user.role is Role.OFFICER:
        areas = [a.name for a in user.areas]
        conditions = [Case.team == team, Case.case_officer == user.name]
        if areas:
            conditions.append(Case.area.in_(areas))
        return or_(*conditions)
    return false()  # process owners see no cases; partners only through referrals (later)


def visible_cases(user: User) -> Select[Case]:
    """Select the cases ``user`` may see, for the caller to filter, order and paginate."""
    return select(Case).where(case_filter(user))


def sees_case(user: User, case: Case) -> bool:
    """Tell whether ``user`` may see ``case`` (the pure-Python twin of ``case_filter``)."""
    if not user.active:
        return False
    if user.role in ALL_CASES:
        return True
    if user.role is Role.TEAM_LEADER:
        return case.team == _team_name(user) or case.case_officer == user.name
    if user.role is Role.OFFICER:
        return (case.team == _team_name(user) or case.case_officer == user.name
                or (case.area is not None and case.area in {a.name for a in user.areas}))
    return False


def can_view_case(session: Session, user: User, case: Case) -> bool:
    """Tell whether ``user`` may see ``case``; ``session`` is for rules that need queries."""
    del session  # partners' referrals will need it
    return sees_case(user, case)


# Work that belongs to no single case (an ASB Case Review "CR-...", a complaint "CMP-...")
# has its own reference as business key: its unassigned tasks are for everyone in the lane's
# role, as a team queue is. Case tasks keep the case's visibility rules.
CASE_KEY_PREFIX = "ASB-"


def standalone_work(task: HumanTask) -> bool:
    """Tell whether ``task`` belongs to a Case Review or complaint rather than to a case."""
    return not (task.business_key or "").startswith(CASE_KEY_PREFIX)


def _role_pool(user: User, task: HumanTask) -> bool:
    return standalone_work(task) and task.role == str(user.role) and user.active


def can_view_task(session: Session, user: User, task: HumanTask, case: Case | None) -> bool:
    """A task is visible to its assignee and to whoever may see its case."""
    if not user.active:
        return False
    if task.assignee == user.name:
        return True
    if case is None:
        return _role_pool(user, task)
    return can_view_case(session, user, case)


def can_act_on_task(user: User, task: HumanTask, case: Case | None) -> bool:
    """Tell whether ``user`` may claim or complete ``task`` (API.md's rule, case visibility too)."""
    if task.assignee is not None and task.assignee == user.name:
        return user.active
    if case is None:
        return task.assignee is None and _role_pool(user, task)
    if not sees_case(user, case):
        return False
    return people.can_act_on_task(user, task_role=task.role or "", assignee=task.assignee,
                                  task_team=case.team)


def could_claim(user: User, task: HumanTask, case: Case | None) -> bool:
    """Tell whether ``user`` would be allowed to act on ``task`` if nobody held it."""
    if task.assignee == user.name:
        return user.active
    if case is None:
        return _role_pool(user, task)
    if not sees_case(user, case):
        return False
    return people.can_act_on_task(user, task_role=task.role or "", assignee=None,
                                  task_team=case.team)


def actionable_tasks(user: User) -> Select[HumanTask]:
    """Select tasks ``user`` may act on: theirs, their role's unassigned ones, their team's."""
    mine = HumanTask.assignee == user.name
    if not user.active:
        return select(HumanTask).where(false())
    conditions: list[ColumnElement[bool]] = [mine]
    visible = select(Case.reference).where(case_filter(user))
    conditions.append(and_(HumanTask.assignee.is_(None), HumanTask.role == str(user.role),
                           HumanTask.business_key.in_(visible)))
    conditions.append(and_(HumanTask.assignee.is_(None), HumanTask.role == str(user.role),
                           HumanTask.business_key.not_like(f"{CASE_KEY_PREFIX}%")))
    if user.role is Role.TEAM_LEADER:
        team_cases = select(Case.reference).where(Case.team == _team_name(user))
        conditions.append(HumanTask.business_key.in_(team_cases))
    return select(HumanTask).where(or_(*conditions))
