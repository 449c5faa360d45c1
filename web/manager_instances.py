"""The managers' process-instance pages: list, view, actions, heatmaps (blueprint, URL map).

Managers only, to view and to act (least privilege: admins run users and settings, process
owners the diagrams; neither needs the cases' running state). Everyone else gets 403,
strangers are sent to sign in. The views live in ``web/manager/instance*.py``.

URL map (blueprint ``manager_instances``):
    GET       /instances                                           list, filtered, 50 a page
    GET       /instances/<id>                                      one instance
    GET       /instances/<id>/diagram.json                         its diagrams and tokens
    GET, POST /instances/<id>/suspend | resume | cancel            with a reason
    GET, POST /instances/<id>/reassign                             open tasks to someone else
    GET, POST /instances/<id>/incidents/<incident_id>/retry        run a failed step again
    GET       /instances/heatmap                                   versions to choose from
    GET       /instances/heatmap/<version_id>                      one version's heatmap
    GET       /instances/heatmap/<version_id>.json                 its figures per element
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from cases.people import Role
from web.auth.guards import roles_required
from web.officer.case_access import london

from .manager import instance_actions, instance_heatmap, instances

bp = Blueprint("manager_instances", __name__, url_prefix="/instances")
bp.add_app_template_filter(london, "instance_time")
INSTANCE_ROLES = (Role.MANAGER,)
BOTH = ["GET", "POST"]


@bp.before_request
@roles_required(*INSTANCE_ROLES)
def _managers_only() -> None:
    """Every page: strangers sign in first, every role but manager gets 403."""
    return None


def _rule(rule: str, endpoint: str, view: Any, methods: list[str] | None = None,
          **defaults: Any) -> None:
    options: dict[str, Any] = {"defaults": defaults} if defaults else {}
    bp.add_url_rule(rule, endpoint, view, methods=methods or ["GET"], **options)


_rule("", "index", instances.index)
_rule("/<int:instance_id>", "show", instances.show)
_rule("/<int:instance_id>/diagram.json", "diagram", instances.diagram)
for _action in instance_actions.KINDS:
    _rule(f"/<int:instance_id>/{_action}", _action, instance_actions.act, BOTH, action=_action)
_rule("/<int:instance_id>/reassign", "reassign", instance_actions.reassign, BOTH)
_rule("/<int:instance_id>/incidents/<int:incident_id>/retry", "retry", instance_actions.retry,
      BOTH)
_rule("/heatmap", "heatmaps", instance_heatmap.heatmaps)
_rule("/heatmap/<int:version_id>", "heatmap", instance_heatmap.heatmap)
_rule("/heatmap/<int:version_id>.json", "heatmap_json", instance_heatmap.heatmap_json)
