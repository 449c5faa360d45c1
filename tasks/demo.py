"""Demo data for a first look at the product: one user per role, teams, wards and partners."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cases import config as council_config
from cases.people import (
    Role,
    create_user,
    ensure_agency,
    ensure_area,
    ensure_team,
    find_user,
    set_password,
)

DEMO_USERS = (
    ("olivia.officer", Role.OFFICER, "North team", None, "Olivia Officer"),
    ("omar.officer", Role.OFFICER, "North team", None, "Omar Officer"),
    ("oscar.officer", Role.OFFICER, "South team", None, "Oscar Officer"),
    ("tara.leader", Role.TEAM_LEADER, "North team", None, "Tara Team-Leader"),
    ("sol.leader", Role.TEAM_LEADER, "South team", None, "Sol Team-Leader"),
    ("pat.owner", Role.PROCESS_OWNER, None, None, "Pat Process-Owner"),
    ("mina.manager", Role.MANAGER, None, None, "Mina Manager"),
    ("ada.admin", Role.ADMIN, None, None, "Ada Admin"),
    ("paul.police", Role.PARTNER, None, "police", "Paul (Derbyshire Police)"),
)


# Which wards each demo officer covers (the rest fall to the least busy officer).
DEMO_PATCHES = {
    "olivia.officer": ("St Helen's", "Spire", "Brockwell"),
    "omar.officer": ("Walton", "Loundsley Green & Newbold", "Hasland"),
    "oscar.officer": ("Brimington", "Whittington Moor", "Old Whittington", "Staveley Central",
                      "Barrow Hill & New Whittington", "Staveley North"),
}


@dataclass(frozen=True)
class DemoLogin:
    """A demo user's name, role and freshly generated password."""

    name: str
    role: str
    password: str


def seed_demo(session: Session) -> list[DemoLogin]:
    """Create (or refresh the passwords of) the demo users; return their logins."""
    for entry in council_config.DEFAULTS["partner_directory"]:
        ensure_agency(session, entry["code"], entry["name"])
    areas = {ward: ensure_area(session, ward)
             for ward in sorted(set(council_config.DEFAULTS["postcode_wards"].values()))}
    logins = []
    for name, role, team, agency, display in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        user = find_user(session, name)
        if user is None:
            if team:
                ensure_team(session, team)
            create_user(session, name, role, password=password, team=team, agency=agency,
                        display_name=display, email=f"{name}@council.example.org")
        else:
            set_password(user, password)
        user = find_user(session, name)
        if user is not None:
            for ward in DEMO_PATCHES.get(name, ()):
                if areas[ward] not in user.areas:
                    user.areas.append(areas[ward])
        logins.append(DemoLogin(name, role.value, password))
    session.flush()
    return logins
