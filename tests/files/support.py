"""What the file store tests share: signed-in uploads, every table's row count, stored files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, table
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from cases.evidence import EvidenceItem
from tests.api.support import Api
from tests.security.test_uploads import signed_in
from web.extensions import unit

__all__ = ["Api", "every_table", "items", "on_disk", "send", "signed_in"]


def send(client: Any, csrf: str, path: str, data: bytes, name: str, kind: str = "document"
         ) -> Any:
    """POST one file to an upload form at ``path``, encoded in memory."""
    boundary, body = encode_multipart(MultiDict({
        "csrf_token": csrf, "kind": kind, "description": "Noise from next door",
        "file": FileStorage(io.BytesIO(data), filename=name)}))
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def every_table(api: Api) -> dict[str, int]:
    """The number of rows in every table of the app's database."""
    engine = api.app.extensions["asb"]["db"]
    with engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        return {name: conn.scalar(select(func.count()).select_from(table(name))) or 0
                for name in names}


def items(api: Api) -> list[EvidenceItem]:
    """Every evidence record, oldest first."""
    with api.app.app_context(), unit() as session:
        found = list(session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)))
        session.expunge_all()
        return found


def on_disk(root: Path) -> list[str]:
    """Every entry in a local store's directory, hidden temporary files included."""
    return sorted(p.name for p in root.iterdir()) if root.exists() else []
