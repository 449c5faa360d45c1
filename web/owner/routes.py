"""The process owner's workspace URL map: processes, versions, editors, publishing.

Process owners and administrators edit and publish (``DIAGRAM_EDITORS``); managers may read
every page that changes nothing (``DIAGRAM_READERS``); everyone else gets 403.

URL map (blueprint ``owner``):
    GET       /diagrams                                         pages.index()
    GET, POST /diagrams/upload                                  pages.upload()
    POST      /diagrams/drafts                                  editing.save_draft()
    POST      /diagrams/check                                   editing.check()
    GET       /diagrams/processes/<process_id>                  pages.process_history()
    GET       /diagrams/versions/<version_id>                   pages.version()
    GET       /diagrams/versions/<version_id>/source            editing.source()
    GET       /diagrams/versions/<version_id>/edit              editing.edit()
    GET, POST /diagrams/versions/<version_id>/publish           pages.publish()
    GET, POST /diagrams/versions/<version_id>/migrate           migration.migrate()
    GET       /diagrams/decisions/<decision_id>                 editing.decision_page()
    GET       /diagrams/decisions/<decision_id>/source          editing.decision_source()
    GET       /diagrams/decisions/<decision_id>/edit            editing.decision_edit()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint

from web.access import DIAGRAM_READERS
from web.admin.common import uk_time
from web.auth.guards import roles_required

from . import editing, migration, pages

bp = Blueprint("owner", __name__, url_prefix="/diagrams")
bp.add_app_template_filter(uk_time, "owner_time")


@bp.before_request
@roles_required(*DIAGRAM_READERS)
def _readers_only() -> None:
    """Every page: strangers sign in first, roles that may not read diagrams get 403."""
    return None


def _route(rule: str, view: Callable[..., Any], methods: tuple[str, ...] = ("GET",)) -> None:
    bp.add_url_rule(rule, view.__name__, view, methods=list(methods))


BOTH = ("GET", "POST")
_route("", pages.index)
_route("/upload", pages.upload, BOTH)
_route("/drafts", editing.save_draft, ("POST",))
_route("/check", editing.check, ("POST",))
_route("/processes/<process_id>", pages.process_history)
_route("/versions/<int:version_id>", pages.version)
_route("/versions/<int:version_id>/source", editing.source)
_route("/versions/<int:version_id>/edit", editing.edit)
_route("/versions/<int:version_id>/publish", pages.publish, BOTH)
_route("/versions/<int:version_id>/migrate", migration.migrate, BOTH)
_route("/decisions/<decision_id>", editing.decision_page)
_route("/decisions/<decision_id>/source", editing.decision_source)
_route("/decisions/<decision_id>/edit", editing.decision_edit)
