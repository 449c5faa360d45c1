"""Uploads: size limits per kind, type by content, safe downloads, GPS removal, virus quarantine."""

from __future__ import annotations

import io
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from cases.audit import AuditEvent
from cases.evidence import EvidenceItem
from cases.people import User
from engine import clock
from tests.api.support import XMAS_EVE, Api, make_api
from tests.web.support import csrf_token
from web.extensions import unit

MB = 1024 * 1024
EICAR_MARK = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


def gps_jpeg() -> bytes:
    """A JPEG as a phone writes it: camera make, orientation and a GPS position."""
    image = Image.new("RGB", (40, 30), (180, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (53.0, 27.0, 12.5), 3: "W", 4: (2.0, 14.0, 39.9)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(0x8825))


def signed_in(api: Api, who: str = "olivia"):  # type: ignore[no-untyped-def]
    with api.app.app_context(), unit() as session:
        uid = session.scalar(select(User.id).where(User.name == who))
    client = api.app.test_client()
    now = clock.now().isoformat()
    with client.session_transaction() as state:
        state.update(uid=uid, sid=f"test-{who}", started=now, seen=now)
    return client, csrf_token(client, "/cases")


def send(client, csrf: str, ref: str, data: bytes, name: str, kind: str = "photo",  # type: ignore[no-untyped-def]
         **extra: str):
    # Encoded here, in memory: the test client would spool a big body to an unclosed file.
    boundary, body = encode_multipart(MultiDict({
        "csrf_token": csrf, "kind": kind, "description": "", **extra,
        "file": FileStorage(io.BytesIO(data), filename=name)}))
    return client.post(f"/cases/{ref}/evidence", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def fetch(client, url: str):  # type: ignore[no-untyped-def]
    """GET ``url`` and close the response (a download holds the stored file open)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def items(api: Api) -> list[EvidenceItem]:
    with api.app.app_context(), unit() as session:
        found = session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).all()
        session.expunge_all()
        return list(found)


def stored(tmp_path: Path) -> list[Path]:
    root = tmp_path / "files"
    return sorted(p for p in root.iterdir() if p.is_file()) if root.exists() else []


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"), ASB_MAX_UPLOAD_MB=1)


@pytest.fixture
def ref(api: Api) -> str:
    return str(api.open_case()["reference"])


def test_the_size_limit_comes_from_asb_max_upload_mb_and_a_413_reshows_the_form(
        api, ref, tmp_path):
    client, csrf = signed_in(api)
    just_over = b"\xff\xd8\xff" + b"\x00" * MB
    refused = send(client, csrf, ref, just_over, "door.jpg")
    assert refused.status_code == 413
    assert "must be smaller than 1 MB" in refused.get_data(as_text=True)
    # A body far over the request limit: not even parsed, yet the form comes back.
    huge = send(client, csrf, ref, b"\x00" * (2 * MB), "door.jpg")
    html = huge.get_data(as_text=True)
    assert huge.status_code == 413
    assert "Add evidence" in html and 'name="csrf_token"' in html
    assert "The selected file is too large: it must be smaller than 1 MB" in html
    assert items(api) == [] and stored(tmp_path) == []


def test_a_smaller_limit_applies_to_photos_than_to_video(tmp_path):
    clock.set_now(XMAS_EVE)
    api = make_api(tmp_path, ASB_FILES=str(tmp_path / "files"), ASB_MAX_UPLOAD_MB=30)
    ref = str(api.open_case()["reference"])
    client, csrf = signed_in(api)
    photo = b"\xff\xd8\xff" + b"\x00" * (26 * MB)
    response = send(client, csrf, ref, photo, "door.jpg")
    assert response.status_code == 413
    assert "must be smaller than 25 MB for a photo" in response.get_data(as_text=True)
    video = b"\x00\x00\x00\x18ftypisom" + b"\x00" * (26 * MB)
    assert send(client, csrf, ref, video, "street.mp4", kind="video").status_code == 302
    assert [i.kind.value for i in items(api)] == ["video"]


@pytest.mark.parametrize(("data", "name"), [
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "notes.txt"),
    (b"<html><body onload=alert(1)>", "page.html"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
     b"</svg>", "picture.svg"),
    (b'<svg onload="alert(1)"/>', "notes.txt"),
])
def test_web_pages_and_svg_are_refused_whatever_their_name(api, ref, tmp_path, data, name):
    client, csrf = signed_in(api)
    response = send(client, csrf, ref, data, name, kind="document")
    assert response.status_code == 400
    assert items(api) == [] and stored(tmp_path) == []


def test_files_are_stored_under_server_made_names_and_served_as_attachments(api, ref, tmp_path):
    client, csrf = signed_in(api)
    text = b"Tuesday: music until 3am\n"
    assert send(client, csrf, ref, text, "../../etc/<b>diary</b>.txt",
                kind="document").status_code == 302
    [item] = items(api)
    [path] = stored(tmp_path)
    assert path.name == item.stored_name and len(path.name) == 32 and "diary" not in path.name
    response = fetch(client, f"/cases/{ref}/evidence/{item.id}")
    assert response.status_code == 200 and response.data == text
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "<" not in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_gps_is_removed_when_asked_and_kept_when_not(api, ref, tmp_path):
    client, csrf = signed_in(api)
    photo = gps_jpeg()
    assert gps_of(photo)  # the test photo really carries a position
    assert send(client, csrf, ref, photo, "kept.jpg").status_code == 302
    assert send(client, csrf, ref, photo, "stripped.jpg", remove_location="y").status_code == 302
    kept, stripped = items(api)
    kept_bytes = fetch(client, f"/cases/{ref}/evidence/{kept.id}").data
    stripped_bytes = fetch(client, f"/cases/{ref}/evidence/{stripped.id}").data
    assert kept_bytes == photo and gps_of(kept_bytes)
    assert gps_of(stripped_bytes) == {} and b"PhoneMaker" not in stripped_bytes
    with Image.open(io.BytesIO(stripped_bytes)) as image:
        assert image.size == (40, 30) and image.getexif().get(0x0112) == 6
    assert stripped.size == len(stripped_bytes) != len(photo)


def test_the_upload_form_offers_to_remove_the_location(api, ref):
    client, _csrf = signed_in(api)
    html = client.get(f"/cases/{ref}/evidence/new").get_data(as_text=True)
    assert 'name="remove_location"' in html and "Remove the location" in html


class FakeClamd:
    """A tiny clamd on 127.0.0.1 that speaks INSTREAM and finds the EICAR marker."""

    def __init__(self, *, answer: bool = True) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.answer = answer
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                self._one(conn)

    def _read(self, conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            part = conn.recv(size - len(data))
            if not part:
                raise ConnectionError("closed early")
            data += part
        return data

    def _one(self, conn: socket.socket) -> None:
        assert self._read(conn, 10) == b"zINSTREAM\0"
        body = b""
        while (length := struct.unpack("!L", self._read(conn, 4))[0]) != 0:
            body += self._read(conn, length)
        self.received.append(body)
        if not self.answer:
            return
        found = EICAR_MARK in body
        conn.sendall(b"stream: Eicar-Test-Signature FOUND\0" if found else b"stream: OK\0")

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def clamd() -> Iterator[FakeClamd]:
    server = FakeClamd()
    yield server
    server.close()


def test_with_clamd_a_clean_file_downloads_and_an_infected_one_stays_quarantined(
        tmp_path, clamd):
    clock.set_now(XMAS_EVE)
    api = make_api(tmp_path, ASB_FILES=str(tmp_path / "files"), ASB_CLAMD=clamd.address)
    ref = str(api.open_case()["reference"])
    client, csrf = signed_in(api)
    clean = b"A clean diary\n"
    infected = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + EICAR_MARK + b"!$H+H*\n"
    assert send(client, csrf, ref, clean, "clean.txt", kind="document").status_code == 302
    told = send(client, csrf, ref, infected, "bad.txt", kind="document")
    assert told.status_code == 302
    page = client.get(told.headers["Location"]).get_data(as_text=True)
    assert "quarantined and cannot be downloaded" in page
    assert page.count("Quarantined: a virus was found") == 1      # on bad.txt only
    assert "Awaiting a virus scan" not in page
    assert clamd.received == [clean, infected]
    good, bad = items(api)
    assert fetch(client, f"/cases/{ref}/evidence/{good.id}").data == clean
    refused = fetch(client, f"/cases/{ref}/evidence/{bad.id}")
    assert refused.status_code == 302 and "Content-Disposition" not in refused.headers
    assert "This file is quarantined" in client.get(refused.headers["Location"]).get_data(
        as_text=True)
    with api.app.app_context(), unit() as session:
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "evidence", AuditEvent.object_id == str(bad.id))).all()
    assert "evidence.quarantined" in actions and "evidence.downloaded" not in actions


def test_with_clamd_silent_a_file_waits_for_its_scan(tmp_path):
    from tasks.wiring import worker_jobs

    silent = FakeClamd(answer=False)
    try:
        clock.set_now(XMAS_EVE)
        api = make_api(tmp_path, ASB_FILES=str(tmp_path / "files"), ASB_CLAMD=silent.address)
        ref = str(api.open_case()["reference"])
        client, csrf = signed_in(api)
        sent = send(client, csrf, ref, b"Diary\n", "diary.txt", kind="document")
        case_page = client.get(sent.headers["Location"]).get_data(as_text=True)
        assert "awaiting a virus scan" in case_page
        assert case_page.count("Awaiting a virus scan") == 1       # the tag beside the file
        [item] = items(api)
        waiting = fetch(client, f"/cases/{ref}/evidence/{item.id}")
        assert waiting.status_code == 302 and "Content-Disposition" not in waiting.headers
    finally:
        silent.close()
    # Later the scanner answers: the worker's pass releases the file (`asb worker` has the
    # same jobs from its environment; without ASB_FILES it cannot find the files).
    working = FakeClamd()
    try:
        assert [j.__name__ for j in worker_jobs({"ASB_CLAMD": working.address})] == [
            "seal_audit", "purge_sessions"]
        (scan,) = [j for j in worker_jobs({"ASB_CLAMD": working.address,
                                           "ASB_FILES": str(tmp_path / "files")})
                   if j.__name__ == "scan_evidence"]
        with api.app.app_context(), unit() as session:
            assert scan(session) == 1
        with api.app.app_context(), unit() as session:
            assert scan(session) == 0                      # scanned once, not again
        assert "Awaiting a virus scan" not in client.get(f"/cases/{ref}").get_data(as_text=True)
        assert fetch(client, f"/cases/{ref}/evidence/{item.id}").data == b"Diary\n"
    finally:
        working.close()


def test_a_reporter_sending_too_much_gets_their_form_back(api, tmp_path):
    from tests.reporter.support import csrf, send_report

    client, _ref, _code, _page = send_report(api)
    token = csrf(client, "/my-case/evidence")
    boundary, body = encode_multipart(MultiDict({
        "csrf_token": token, "kind": "photo",
        "file": FileStorage(io.BytesIO(b"\x00" * (2 * MB)), filename="door.jpg")}))
    response = client.post("/my-case/evidence", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    html = response.get_data(as_text=True)
    assert response.status_code == 413 and "Send evidence" in html
    assert "The selected file is too large: it must be smaller than 1 MB" in html
    assert items(api) == [] and stored(tmp_path) == []


def test_a_stranger_sending_too_much_sees_no_form(api, ref):
    boundary, body = encode_multipart(MultiDict({
        "file": FileStorage(io.BytesIO(b"\x00" * (2 * MB)), filename="door.jpg")}))
    for path in (f"/cases/{ref}/evidence", "/my-case/evidence"):
        response = api.client().post(path, data=body,
                                     content_type=f"multipart/form-data; boundary={boundary}")
        html = response.get_data(as_text=True)
        assert response.status_code in (302, 401), (path, response.status_code)
        assert 'name="file"' not in html and "Add evidence" not in html


def test_a_reporter_can_have_a_photos_location_removed_and_their_file_is_scanned(
        tmp_path, clamd):
    from tests.reporter.support import csrf, send_report

    clock.set_now(XMAS_EVE)
    api = make_api(tmp_path, ASB_FILES=str(tmp_path / "files"), ASB_CLAMD=clamd.address)
    client, ref, _code, _page = send_report(api)
    form = client.get("/my-case/evidence").get_data(as_text=True)
    assert 'name="remove_location"' in form and "Remove where a photo was taken" in form
    photo = gps_jpeg()
    response = client.post("/my-case/evidence", data={
        "csrf_token": csrf(client, "/my-case/evidence"), "kind": "photo",
        "remove_location": "y", "file": (io.BytesIO(photo), "garden.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    (item,) = items(api)
    kept = (tmp_path / "files" / item.stored_name).read_bytes()
    assert gps_of(photo) and gps_of(kept) == {} and b"PhoneMaker" not in kept
    assert clamd.received == [kept]                      # scanned at once, as stored
    officer, _csrf = signed_in(api)
    assert fetch(officer, f"/cases/{ref}/evidence/{item.id}").data == kept
