"""Keep secrets out of access logs: reporter and partner link keys and every query string."""

from __future__ import annotations

import logging
import re
from typing import Any

# Path parts that are themselves credentials: a reporter's follow-up key, a partner's link.
_SECRET_PATH_RE = re.compile(r"(/(?:follow|partner/link)/)[^/?#\s\"]+")
_QUERY_RE = re.compile(r"\?[^\s\"#]*")
# The access loggers of the development server and of gunicorn.
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def scrub(text: str) -> str:
    """``text`` with secret path parts replaced by ``[redacted]`` and query strings removed."""
    text = _SECRET_PATH_RE.sub(r"\1[redacted]", text)
    return _QUERY_RE.sub("?[redacted]", text)


def _scrub_value(value: Any) -> Any:
    return scrub(value) if isinstance(value, str) else value


class SecretScrubber(logging.Filter):
    """Rewrite an access-log record so that no link key or query string reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub the record's message and arguments in place; always keep the record."""
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        args = record.args
        if isinstance(args, dict):
            # In place: gunicorn's atoms are a dict subclass that answers "-" for missing keys.
            for key, value in list(args.items()):
                args[key] = _scrub_value(value)
            if args.get("q"):
                args["q"] = "[redacted]"
        elif isinstance(args, tuple):
            record.args = tuple(_scrub_value(value) for value in args)
        return True


def install() -> None:
    """Add the scrubber to the access loggers (once, however many apps are made)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(found, SecretScrubber) for found in logger.filters):
            logger.addFilter(SecretScrubber())
