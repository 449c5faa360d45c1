"""The file store: evidence bytes in a private directory outside the web root.

Files are named by a random token (never by anything the client sent) and written through a
temporary file and a rename, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_NAME_RE = re.compile(r"[0-9a-f]{32}")


class StoredFileMissing(LookupError):
    """No stored file has this name."""


@dataclass(frozen=True)
class StoredFile:
    """What the store wrote: its name in the store, size and SHA-256."""

    name: str
    size: int
    sha256: str


class FileStore:
    """A flat directory of files named by random tokens."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: Mapping[str, object], default: str | os.PathLike[str]
                      ) -> FileStore:
        """The store at ``ASB_FILES`` (from ``settings`` or the environment), else ``default``."""
        chosen = settings.get("ASB_FILES") or os.environ.get("ASB_FILES") or default
        return cls(str(chosen))

    def _path(self, name: str) -> Path:
        if not _NAME_RE.fullmatch(name):
            raise StoredFileMissing(name)
        return self.root / name

    def save(self, data: bytes) -> StoredFile:
        """Write ``data`` under a new random name and return what was stored."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        handle, temp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self._path(name))
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return StoredFile(name, len(data), hashlib.sha256(data).hexdigest())

    def path_of(self, name: str) -> Path:
        """The path of the stored file ``name``; ``StoredFileMissing`` if there is none."""
        path = self._path(name)
        if not path.is_file():
            raise StoredFileMissing(name)
        return path

    def delete(self, name: str) -> None:
        """Remove a stored file (used when the record of it could not be written)."""
        self._path(name).unlink(missing_ok=True)
