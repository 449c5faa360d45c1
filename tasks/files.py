"""The file store: evidence bytes in a private directory outside the web root.

Files are named by a random token (never by anything the client sent) and written through a
temporary file and a rename, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def read(self, name: str) -> bytes:
        """The bytes of the stored file ``name``; ``StoredFileMissing`` if there is none."""
        return self.path_of(name).read_bytes()

    def delete(self, name: str) -> None:
        """Remove a stored file (used when the record of it could not be written)."""
        self._path(name).unlink(missing_ok=True)


class MetadataNotRemovable(ValueError):
    """The image's metadata cannot be removed (a type we cannot rewrite, or unreadable)."""


# Photo types whose metadata can be rewritten here (HEIC needs a codec Pillow lacks).
STRIPPABLE = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
_ORIENTATION = 0x0112


def strip_image_metadata(data: bytes, content_type: str) -> bytes:
    """The image re-written without EXIF (GPS, camera, times), XMP or text chunks.

    Only the orientation survives, so that the photo still shows the right way up. JPEGs keep
    their quantisation tables (``quality="keep"``), so the picture is not visibly changed.
    """
    if content_type not in STRIPPABLE:
        raise MetadataNotRemovable(content_type)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            orientation = image.getexif().get(_ORIENTATION)
            kept = Image.Exif()
            if orientation:
                kept[_ORIENTATION] = orientation
            out = io.BytesIO()
            options: dict[str, object] = {"exif": kept.tobytes()} if orientation else {}
            if image.format == "JPEG":
                options.update(quality="keep", subsampling="keep")
            if image.info.get("icc_profile"):
                options["icc_profile"] = image.info["icc_profile"]
            if image.format == "GIF":
                options.update(save_all=True)
            clean = _without_info(image)
            clean.save(out, format=image.format, **options)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError) as exc:
        raise MetadataNotRemovable(content_type) from exc
    return out.getvalue()


def _without_info(image: Any) -> Any:
    """The image with its ``info`` (where Pillow keeps EXIF, XMP and text chunks) emptied."""
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "dpi"):
        image.info.pop(key, None)
    if image.format == "PNG":
        image.info.clear()
    return image
