"""The evidence file store: one interface, a private directory by default or an S3 bucket.

Files are named by a random token (never by anything the client sent). ``LocalFileStore``
writes through a temporary file, fsync and a rename, so a reader never sees half a file;
``S3FileStore`` (in ``tasks.files_s3``) puts whole objects. ``file_store_from`` chooses one
from ``ASB_FILES_BACKEND``. A store that cannot save (disk full, bucket gone) raises
``StoreUnavailable`` and leaves nothing behind.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import secrets
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

NAME_RE = re.compile(r"[0-9a-f]{32}")
TEMP_PREFIX = ".upload-"
TEMP_RE = re.compile(re.escape(TEMP_PREFIX) + r"[A-Za-z0-9_]{1,64}")
BACKENDS = ("local", "s3")


class StoredFileMissing(LookupError):
    """No stored file has this name."""


class StoreUnavailable(OSError):
    """The store could not do what was asked (disk full, quota, bucket missing, no answer).

    ``reason`` is a short code safe for logs (``ENOSPC``, ``NoSuchBucket``), never a file's
    content or a client's name.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"the evidence file store is unavailable ({reason})")
        self.reason = reason


class StoreMisconfigured(ValueError):
    """The file store's settings name no usable store."""


@dataclass(frozen=True)
class StoredFile:
    """What the store wrote: its name in the store, size and SHA-256."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ListedFile:
    """One entry of a store's listing: a stored file, or an upload a crash left unfinished."""

    name: str
    modified: datetime  # aware, UTC


def new_name() -> str:
    """A new random name for a stored file (128 bits, hex)."""
    return secrets.token_hex(16)


def check_name(name: str) -> str:
    """``name`` if it could be a stored file's name; ``StoredFileMissing`` if not."""
    if not NAME_RE.fullmatch(name):
        raise StoredFileMissing(name)
    return name


def describe(data: bytes, name: str) -> StoredFile:
    """The record of ``data`` stored under ``name``."""
    return StoredFile(name, len(data), hashlib.sha256(data).hexdigest())


class FileStore(ABC):
    """Where evidence bytes live: saved once under a random name, read, streamed, deleted."""

    @abstractmethod
    def save(self, data: bytes) -> StoredFile:
        """Store ``data`` under a new random name; ``StoreUnavailable`` if it cannot."""

    @abstractmethod
    def read(self, name: str) -> bytes:
        """The bytes of the stored file ``name``; ``StoredFileMissing`` if there is none."""

    @abstractmethod
    def open(self, name: str) -> IO[bytes]:
        """A binary stream of the stored file ``name`` (the caller closes it)."""

    @abstractmethod
    def size(self, name: str) -> int:
        """The size in bytes of the stored file ``name``; ``StoredFileMissing`` if none."""

    def exists(self, name: str) -> bool:
        """Tell whether a stored file is called ``name``."""
        try:
            self.size(name)
        except StoredFileMissing:
            return False
        return True

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove a stored file; a file already gone is no error."""

    @abstractmethod
    def listing(self) -> Iterator[ListedFile]:
        """Every file in the store, with when it was written (for the sweep of strays)."""

    def remove_listed(self, name: str) -> None:
        """Remove an entry ``listing`` gave (a stored file or an unfinished upload)."""
        self.delete(name)


class LocalFileStore(FileStore):
    """A flat private directory of files named by random tokens."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root / check_name(name)

    def save(self, data: bytes) -> StoredFile:
        """Write ``data`` through a temporary file, fsync and rename; nothing left on failure."""
        name, temp = new_name(), None
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self._path(name))
        except OSError as exc:
            _discard(temp)
            raise StoreUnavailable(_reason(exc)) from exc
        except BaseException:
            _discard(temp)
            raise
        return describe(data, name)

    def path_of(self, name: str) -> Path:
        """The path of the stored file ``name`` (local store only; the app uses ``open``)."""
        path = self._path(name)
        if not path.is_file():
            raise StoredFileMissing(name)
        return path

    def read(self, name: str) -> bytes:
        """The bytes of the stored file ``name``; ``StoredFileMissing`` if there is none."""
        with self.open(name) as source:
            return source.read()

    def open(self, name: str) -> IO[bytes]:
        """The stored file ``name`` opened for reading; ``StoredFileMissing`` if there is none."""
        try:
            return self._path(name).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise StoredFileMissing(name) from exc
        except OSError as exc:
            raise StoreUnavailable(_reason(exc)) from exc

    def size(self, name: str) -> int:
        """The size in bytes of the stored file ``name``; ``StoredFileMissing`` if none."""
        return self.path_of(name).stat().st_size

    def delete(self, name: str) -> None:
        """Remove a stored file; a file already gone is no error."""
        try:
            self._path(name).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreUnavailable(_reason(exc)) from exc

    def listing(self) -> Iterator[ListedFile]:
        """The stored files and the temporary files of uploads a killed process left."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreUnavailable(_reason(exc)) from exc
        for entry in entries:
            if (NAME_RE.fullmatch(entry.name) or TEMP_RE.fullmatch(entry.name)) \
                    and entry.is_file(follow_symlinks=False):
                try:
                    modified = entry.stat(follow_symlinks=False).st_mtime
                except FileNotFoundError:
                    continue  # removed since the directory was read
                yield ListedFile(entry.name, datetime.fromtimestamp(modified, UTC))

    def remove_listed(self, name: str) -> None:
        """Remove a stored file, or an unfinished upload's temporary file."""
        if not TEMP_RE.fullmatch(name):
            self.delete(name)
            return
        try:
            (self.root / name).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreUnavailable(_reason(exc)) from exc


def _reason(exc: OSError) -> str:
    """The errno's name (``ENOSPC``), safe to log: never the path or the file's content."""
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def _discard(temp: str | None) -> None:
    if temp is not None:
        Path(temp).unlink(missing_ok=True)


def _setting(settings: Mapping[str, object], key: str) -> str:
    """``key`` from ``settings``, else from the environment, else empty."""
    return str(settings.get(key) or os.environ.get(key) or "")


def file_store_from(settings: Mapping[str, object], default: str | os.PathLike[str]
                    ) -> FileStore:
    """The store ``ASB_FILES_BACKEND`` names (``local``, the default, or ``s3``).

    Each setting is read from ``settings`` (the app's config), else the environment. Local:
    the directory ``ASB_FILES``, else ``default``. S3: see ``tasks.files_s3``.
    """
    backend = (_setting(settings, "ASB_FILES_BACKEND") or "local").strip().lower()
    if backend == "local":
        return LocalFileStore(_setting(settings, "ASB_FILES") or default)
    if backend == "s3":
        from .files_s3 import S3FileStore

        return S3FileStore.from_settings(lambda key: _setting(settings, key))
    raise StoreMisconfigured(f"ASB_FILES_BACKEND must be one of {', '.join(BACKENDS)}, "
                             f"not {backend!r}")


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
