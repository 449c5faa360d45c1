"""The WSGI entry point for gunicorn: ``gunicorn -c gunicorn.conf.py web.wsgi:app``.

On PostgreSQL no timer worker runs inside these processes (``create_app`` starts one on
SQLite only): run ``asb worker`` processes beside them.
"""

from __future__ import annotations

from . import create_app
from .logging_setup import configure_logging

configure_logging()  # text, or JSON lines with ASB_LOG_FORMAT=json; level ASB_LOG_LEVEL
app = create_app()
