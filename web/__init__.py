"""The Flask application factory; no work happens at import time."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"


class ConfigError(RuntimeError):
    """The app cannot start with the configuration it was given."""


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then test overrides."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        DATABASE_URL=None,
        ASB_TESTING=os.environ.get("ASB_TESTING") == "1",
        START_WORKER=None,  # None: start the in-process worker on SQLite only
        BPMN_DIR=str(BPMN_DIR),
    )
    app.config.from_prefixed_env(prefix="ASB")
    # Modules read their settings under the full name (``ASB_SIGN_IN_RATE``); Flask files an
    # environment variable under the name without its prefix, so file it under both.
    app.config.update({f"ASB_{key}": value for key, value in list(app.config.items())
                       if f"ASB_{key}" in os.environ and key != "TESTING"})
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        raise ConfigError("SECRET_KEY is not set: export a long random value before starting")
    from tasks.files import StoreMisconfigured, file_store_from

    try:  # a wrong file store setting stops the start, not the first upload
        file_store_from(app.config, Path(app.instance_path) / "files")
    except StoreMisconfigured as exc:
        raise ConfigError(str(exc)) from exc

    from . import logging_setup, metrics

    logging_setup.init_app(app)  # first: the request id and timer are there for every hook
    metrics.init_app(app)
    from . import auth, errors, extensions, identity, pages, security, templating

    extensions.init_app(app)
    identity.init_app(app)
    security.init_app(app)  # after identity: the CSRF check needs to know who is calling
    templating.init_app(app)
    errors.init_app(app)

    from .system import bp as system_bp

    app.register_blueprint(system_bp)
    from .api import init_app as init_api

    init_api(app)
    auth.init_app(app)
    app.register_blueprint(pages.bp)
    from .officer.inbox import bp as inbox_bp

    app.register_blueprint(inbox_bp)
    from .officer.casefile import bp as casefile_bp

    app.register_blueprint(casefile_bp)
    from .officer.stages_view import bp as stages_bp

    app.register_blueprint(stages_bp)
    from .officer.process_view import bp as process_view_bp

    app.register_blueprint(process_view_bp)
    from .officer.challenges import bp as challenges_bp

    app.register_blueprint(challenges_bp)
    from .admin import bp as admin_bp

    app.register_blueprint(admin_bp)
    from .owner import bp as owner_bp

    app.register_blueprint(owner_bp)
    from .owner_dry_run import bp as owner_dry_run_bp

    app.register_blueprint(owner_dry_run_bp)
    from .manager.dashboard import bp as dashboard_bp

    app.register_blueprint(dashboard_bp)
    from .manager_instances import bp as manager_instances_bp

    app.register_blueprint(manager_instances_bp)
    from .partner import bp as partner_bp

    app.register_blueprint(partner_bp)
    from .audit import bp as audit_bp

    app.register_blueprint(audit_bp)
    from .privacy import bp as privacy_bp

    app.register_blueprint(privacy_bp)
    from .officer.disclosure import bp as disclosure_bp

    app.register_blueprint(disclosure_bp)
    from .reporter import init_app as init_reporter

    init_reporter(app)
    # Last: placeholders only for the workspace paths no blueprint above has taken.
    auth.add_workspace_landing_pages(app)
    if app.config["ASB_TESTING"]:
        log.warning("ASB_TESTING=1: the test clock endpoint is ENABLED. Never use in production.")
    return app
