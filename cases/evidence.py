"""Evidence attached to a case (photos, recordings, documents, diary sheets) and type sniffing.

The bytes live in the file store (``tasks.files``); this table holds what is known about them.
A file's type is read from its content, never from the name or type the client sent.
"""

from __future__ import annotations

import enum
import io
import re
import zipfile
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.audit import AuditRecord, record
from cases.base import Base, Timestamp
from cases.records import Case


class EvidenceKind(enum.StrEnum):
    """What a piece of evidence is."""

    PHOTO = "photo"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    DIARY_SHEET = "diary_sheet"


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
# content type: (what people call it, file name endings that may carry it)
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "image/jpeg": ("JPG image", ("jpg", "jpeg")),
    "image/png": ("PNG image", ("png",)),
    "image/gif": ("GIF image", ("gif",)),
    "image/webp": ("WEBP image", ("webp",)),
    "image/heic": ("HEIC image", ("heic", "heif")),
    "application/pdf": ("PDF document", ("pdf",)),
    "audio/mpeg": ("MP3 recording", ("mp3",)),
    "audio/mp4": ("M4A recording", ("m4a", "mp4")),
    "audio/wav": ("WAV recording", ("wav",)),
    "audio/ogg": ("OGG recording", ("ogg", "oga", "opus")),
    "video/mp4": ("MP4 video", ("mp4", "m4v")),
    "video/quicktime": ("MOV video", ("mov",)),
    DOCX: ("Word document (DOCX)", ("docx",)),
    ODT: ("OpenDocument text (ODT)", ("odt",)),
    "text/plain": ("plain text file", ("txt",)),
}
_IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/heic")
_DOCUMENTS = ("application/pdf", DOCX, ODT, "text/plain")
ALLOWED: dict[EvidenceKind, tuple[str, ...]] = {
    EvidenceKind.PHOTO: _IMAGES,
    EvidenceKind.AUDIO: ("audio/mpeg", "audio/mp4", "audio/wav", "audio/ogg"),
    EvidenceKind.VIDEO: ("video/mp4", "video/quicktime"),
    EvidenceKind.DOCUMENT: _DOCUMENTS,
    EvidenceKind.DIARY_SHEET: (*_DOCUMENTS, "image/jpeg", "image/png"),
}
_AUDIO_BRANDS = (b"M4A ", b"M4B ")
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"hevc")
_TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_ZIP_MEMBER_LIMIT = 200


class EvidenceItem(Base):
    """One uploaded file of evidence on a case."""

    __tablename__ = "evidence_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(Enum(
        EvidenceKind, native_enum=False, length=32, create_constraint=True,
        name="evidence_kind", values_callable=lambda members: [m.value for m in members],
        validate_strings=True))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(Timestamp())
    description: Mapped[str | None] = mapped_column(Text)


def _zip_type(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        return None
    with archive:
        infos = archive.infolist()[:_ZIP_MEMBER_LIMIT]
        names = {info.filename for info in infos}
        first = infos[0] if infos else None
        if first is not None and first.filename == "mimetype" and first.file_size < 100:
            try:
                marker = archive.read(first).strip()
            except (zipfile.BadZipFile, RuntimeError, ValueError, OSError):
                return None
            return ODT if marker == ODT.encode() else None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
    return None


def _iso_media_type(data: bytes) -> str | None:
    brand = data[8:12]
    if brand in _HEIC_BRANDS:
        return "image/heic"
    if brand in _AUDIO_BRANDS:
        return "audio/mp4"
    if brand == b"qt  ":
        return "video/quicktime"
    return "video/mp4"


def _is_mp3_frame(data: bytes) -> bool:
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version, layer, bitrate = (data[1] >> 3) & 3, (data[1] >> 1) & 3, data[2] >> 4
    return version != 1 and layer != 0 and bitrate not in (0, 15)


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return bool(text.strip()) and not _TEXT_CONTROL_RE.search(text)


def sniff_type(data: bytes) -> str | None:
    """Return the content type that ``data`` really is (by its magic bytes), else None."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE"):
        return "image/webp" if head[8:12] == b"WEBP" else "audio/wav"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        return _iso_media_type(data)
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return "audio/mpeg"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    return "text/plain" if _is_text(data) else None


def extension_of(name: str) -> str:
    """The lower-case ending of a file name after its last dot ('' if none)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else ""


def describe_types(types: tuple[str, ...]) -> str:
    """A readable list of the file types in ``types``."""
    labels = [TYPES[t][0] for t in types]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def add_evidence(session: Session, case: Case, *, kind: EvidenceKind, original_name: str,
                 stored_name: str, content_type: str, size: int, sha256: str, actor: str,
                 at: datetime, description: str | None) -> EvidenceItem:
    """Record an uploaded (already stored and checked) file on ``case``, audited."""
    item = EvidenceItem(case_id=case.id, kind=kind, original_name=original_name[:255],
                        stored_name=stored_name, content_type=content_type, size=size,
                        sha256=sha256, uploaded_by=actor, uploaded_at=at,
                        description=description or None)
    session.add(item)
    session.flush()
    record(session, AuditRecord(at=at, actor=actor, action="evidence.uploaded",
                                object_type="evidence", object_id=str(item.id),
                                case_reference=case.reference,
                                summary={"kind": str(kind), "content_type": content_type,
                                         "size": size}))
    return item


def evidence_of(case: Case) -> Select[tuple[EvidenceItem]]:
    """Select a case's evidence, newest first."""
    return (select(EvidenceItem).where(EvidenceItem.case_id == case.id)
            .order_by(EvidenceItem.uploaded_at.desc(), EvidenceItem.id.desc()))
