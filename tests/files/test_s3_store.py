"""The S3 store against a real S3-compatible server on 127.0.0.1 (moto's server mode)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from engine import clock
from tasks.files import StoredFileMissing, StoreMisconfigured, StoreUnavailable, file_store_from
from tasks.files_s3 import S3FileStore
from tests.api.support import XMAS_EVE, make_api
from tests.security.test_uploads import FakeClamd, fetch

from .support import every_table, items, send, signed_in
from .test_disk_full import MESSAGE

REGION = "eu-west-2"
PREFIX = "asb/evidence/"
PUBLIC = ("http://acs.amazonaws.com/groups/global/AllUsers",
          "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials from the standard AWS variables, and nothing read from this machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "asb-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "asb-test-secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "ASB_FILES_BACKEND", "ASB_FILES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def admin(endpoint: str, aws: None) -> Any:
    """A client of our own, to look in the bucket behind the store's back."""
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def bucket(admin: Any) -> str:
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def keys(admin: Any, bucket: str) -> list[str]:
    listed = admin.list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(entry["Key"] for entry in listed)


def test_save_read_stream_and_delete_private_encrypted_objects(endpoint: str, admin: Any,
                                                               bucket: str) -> None:
    store = S3FileStore(bucket, prefix=PREFIX, endpoint_url=endpoint, region=REGION,
                        encryption="AES256")
    data = bytes(range(256)) * 4000                       # 1 MB, every byte value
    stored = store.save(data)
    assert keys(admin, bucket) == [PREFIX + stored.name] and len(stored.name) == 32
    head = admin.head_object(Bucket=bucket, Key=PREFIX + stored.name)
    assert head["ServerSideEncryption"] == "AES256"
    grants = admin.get_object_acl(Bucket=bucket, Key=PREFIX + stored.name)["Grants"]
    assert [g for g in grants if g["Grantee"].get("URI") in PUBLIC] == []
    assert store.read(stored.name) == data and store.size(stored.name) == len(data)
    with store.open(stored.name) as stream:
        chunks = list(iter(lambda: stream.read(64 * 1024), b""))
    assert len(chunks) > 1 and b"".join(chunks) == data
    assert store.exists(stored.name)
    store.delete(stored.name)
    store.delete(stored.name)                            # already gone: no error
    assert keys(admin, bucket) == [] and not store.exists(stored.name)


def test_a_missing_object_is_stored_file_missing(endpoint: str, bucket: str) -> None:
    store = S3FileStore(bucket, endpoint_url=endpoint, region=REGION)
    for name in ("0" * 32, "../../other-bucket/x"):
        for action in (store.read, store.open, store.size):
            with pytest.raises(StoredFileMissing):
                action(name)
        assert not store.exists(name)


def test_a_missing_bucket_makes_the_store_unavailable(endpoint: str, aws: None) -> None:
    store = S3FileStore("no-such-evidence-bucket", endpoint_url=endpoint, region=REGION)
    with pytest.raises(StoreUnavailable) as refused:
        store.save(b"evidence")
    assert refused.value.reason == "NoSuchBucket"
    with pytest.raises(StoreUnavailable):
        store.read("0" * 32)


def test_the_s3_backend_is_chosen_by_settings(endpoint: str, admin: Any, bucket: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASB_FILES_S3_ENDPOINT", endpoint)    # settings fall back to the env
    monkeypatch.setenv("ASB_FILES_S3_REGION", REGION)
    store = file_store_from({"ASB_FILES_BACKEND": "s3", "ASB_FILES_S3_BUCKET": bucket,
                             "ASB_FILES_S3_PREFIX": "council/"}, "/nowhere")
    assert isinstance(store, S3FileStore)
    stored = store.save(b"evidence")
    assert keys(admin, bucket) == [f"council/{stored.name}"]
    with pytest.raises(StoreMisconfigured, match="ASB_FILES_S3_SSE"):
        file_store_from({"ASB_FILES_BACKEND": "s3", "ASB_FILES_S3_BUCKET": bucket,
                         "ASB_FILES_S3_SSE": "rot13"}, "/nowhere")


def s3_app(tmp_path: Path, endpoint: str, bucket: str, **extra: Any) -> Any:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path, ASB_FILES_BACKEND="s3", ASB_FILES_S3_BUCKET=bucket,
                    ASB_FILES_S3_ENDPOINT=endpoint, ASB_FILES_S3_REGION=REGION,
                    ASB_FILES_S3_PREFIX=PREFIX, ASB_FILES=str(tmp_path / "files"),
                    ASB_MAX_UPLOAD_MB=30, **extra)


def test_an_officer_upload_lands_in_the_bucket_is_scanned_and_downloads_the_same(
        tmp_path: Path, endpoint: str, admin: Any, bucket: str) -> None:
    clamd = FakeClamd()
    try:
        api = s3_app(tmp_path, endpoint, bucket, ASB_CLAMD=clamd.address)
        ref = str(api.open_case()["reference"])
        client, csrf = signed_in(api)
        data = b"23:10 bass through the wall, 23:40 door slammed\n" * 60_000   # ~3 MB
        sent = send(client, csrf, f"/cases/{ref}/evidence", data, "../Mrs Jones diary.txt")
        assert sent.status_code == 302
        [item] = items(api)
        assert clamd.received == [data]                   # scanned as streamed from the bucket
    finally:
        clamd.close()
    assert keys(admin, bucket) == [PREFIX + item.stored_name]
    assert len(item.stored_name) == 32 and "Jones" not in item.stored_name
    assert admin.get_object(Bucket=bucket, Key=PREFIX + item.stored_name)["Body"].read() == data
    assert not (tmp_path / "files").exists()              # nothing went to the local disk
    response = client.get(f"/cases/{ref}/evidence/{item.id}")
    assert response.status_code == 200 and response.is_streamed
    chunks = list(response.response)                      # sent in pieces, not read whole
    response.close()
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 64 * 1024
    assert b"".join(chunks) == data
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_with_the_bucket_gone_an_upload_is_refused_and_nothing_recorded(
        tmp_path: Path, endpoint: str, admin: Any) -> None:
    api = s3_app(tmp_path, endpoint, "evidence-bucket-never-made")
    ref = str(api.open_case()["reference"])
    client, csrf = signed_in(api)
    before = every_table(api)
    refused = send(client, csrf, f"/cases/{ref}/evidence", b"Loud music\n", "diary.txt")
    assert refused.status_code == 503 and MESSAGE in refused.get_data(as_text=True)
    assert every_table(api) == before and items(api) == []
    assert "evidence-bucket-never-made" not in [
        b["Name"] for b in admin.list_buckets()["Buckets"]]


def test_disposal_deletes_the_cases_objects_from_the_bucket(
        db_session: Any, endpoint: str, admin: Any, bucket: str) -> None:
    from cases.operations import case_by_reference
    from tasks.retention import dispose_case
    from tests.privacy.support import AFTER_RETENTION, closed_case

    store = S3FileStore(bucket, prefix=PREFIX, endpoint_url=endpoint, region=REGION)
    _life, ref = closed_case(db_session, store)
    assert len(keys(admin, bucket)) == 1
    done = dispose_case(db_session, case_by_reference(db_session, ref), store, by="maria",
                        at=datetime(2034, 1, 2, 9, 0, tzinfo=UTC), today=AFTER_RETENTION)
    assert done.files_deleted == 1 and len(keys(admin, bucket)) == 1  # not before the commit
    db_session.commit()
    assert keys(admin, bucket) == []


def test_a_download_still_works_when_the_local_directory_is_unusable(
        tmp_path: Path, endpoint: str, bucket: str, admin: Any) -> None:
    (tmp_path / "files").write_bytes(b"a file where a directory would be")
    api = s3_app(tmp_path, endpoint, bucket)
    ref = str(api.open_case()["reference"])
    client, csrf = signed_in(api)
    assert send(client, csrf, f"/cases/{ref}/evidence", b"Noise\n", "n.txt").status_code == 302
    [item] = items(api)
    assert fetch(client, f"/cases/{ref}/evidence/{item.id}").data == b"Noise\n"


def test_the_workers_scan_reads_the_bucket_without_a_local_directory(
        tmp_path: Path, endpoint: str, bucket: str) -> None:
    from tasks.wiring import worker_jobs
    from web.extensions import unit

    api = s3_app(tmp_path, endpoint, bucket)
    ref = str(api.open_case()["reference"])
    client, csrf = signed_in(api)
    assert send(client, csrf, f"/cases/{ref}/evidence", b"Noise\n", "n.txt").status_code == 302
    clamd = FakeClamd()
    try:
        jobs = worker_jobs({"ASB_CLAMD": clamd.address, "ASB_FILES_BACKEND": "s3",
                            "ASB_FILES_S3_BUCKET": bucket, "ASB_FILES_S3_ENDPOINT": endpoint,
                            "ASB_FILES_S3_REGION": REGION, "ASB_FILES_S3_PREFIX": PREFIX})
        (scan,) = [j for j in jobs if j.__name__ == "scan_evidence"]
        with api.app.app_context(), unit() as session:
            assert scan(session) == 1
    finally:
        clamd.close()
    assert clamd.received == [b"Noise\n"]


def test_the_sweep_lists_the_prefix_page_by_page_and_removes_only_strays(
        endpoint: str, admin: Any, bucket: str, tmp_path: Path) -> None:
    from datetime import timedelta

    from tasks.file_sweep import find_strays, sweep_strays
    from web.extensions import unit

    clock.set_now(XMAS_EVE)
    api = make_api(tmp_path)
    store = S3FileStore(bucket, prefix=PREFIX, endpoint_url=endpoint, region=REGION,
                        client=boto3.client("s3", endpoint_url=endpoint, region_name=REGION))
    pages: list[int] = []

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        pages.append(1)  # small pages, so the listing must follow them
        params["MaxKeys"] = 2
    store.client.meta.events.register("before-parameter-build.s3.ListObjectsV2", small_pages)
    admin.put_object(Bucket=bucket, Key="elsewhere/" + "a" * 32, Body=b"not ours")
    admin.put_object(Bucket=bucket, Key=PREFIX + "notes.txt", Body=b"not a stored name")
    names = sorted(store.save(f"stray {n}\n".encode()).name for n in range(5))
    listed = sorted(entry.name for entry in store.listing())
    assert listed == names and len(pages) >= 3
    later = datetime.now(UTC) + timedelta(days=2)
    with api.app.app_context(), unit() as session:
        assert find_strays(session, store, datetime.now(UTC)).strays == []  # too new yet
        assert sweep_strays(session, store, later) == 5
    assert keys(admin, bucket) == [PREFIX + "notes.txt", "elsewhere/" + "a" * 32]
