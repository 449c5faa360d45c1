"""The evidence file store in an S3-compatible bucket (AWS S3, MinIO, Ceph, and the like).

Objects are keyed ``ASB_FILES_S3_PREFIX`` + the random name, written whole with one PUT,
never with an ACL (the bucket's own policy applies, so nothing is ever public), and with the
server-side encryption header ``ASB_FILES_S3_SSE`` asks for. Credentials come from boto3's
standard chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, an
instance role), never from the app's own settings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .files import (
    NAME_RE,
    FileStore,
    ListedFile,
    StoredFile,
    StoredFileMissing,
    StoreMisconfigured,
    StoreUnavailable,
    check_name,
    describe,
    new_name,
)

MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
SSE_CHOICES = ("", "AES256", "aws:kms", "aws:kms:dsse")
CLIENT_CONFIG = Config(connect_timeout=10, read_timeout=60,
                       retries={"max_attempts": 3, "mode": "standard"})


@functools.lru_cache(maxsize=8)
def _client(endpoint_url: str | None, region: str | None) -> Any:
    """One S3 client per endpoint and region (clients are thread-safe and slow to make)."""
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                        config=CLIENT_CONFIG)


def _code(exc: ClientError) -> str:
    error: dict[str, Any] = exc.response.get("Error", {})
    return str(error.get("Code") or "ClientError")[:64]


class S3FileStore(FileStore):
    """Evidence objects in one bucket under one prefix."""

    def __init__(self, bucket: str, *, prefix: str = "", client: Any = None,
                 endpoint_url: str | None = None, region: str | None = None,
                 encryption: str = "", kms_key_id: str = "") -> None:
        if not bucket:
            raise StoreMisconfigured("ASB_FILES_S3_BUCKET must name the evidence bucket")
        if encryption not in SSE_CHOICES:
            raise StoreMisconfigured(f"ASB_FILES_S3_SSE must be one of {SSE_CHOICES[1:]}")
        self.bucket, self.prefix = bucket, prefix
        self.encryption, self.kms_key_id = encryption, kms_key_id
        self.client = client or _client(endpoint_url or None, region or None)

    @classmethod
    def from_settings(cls, setting: Callable[[str], str]) -> S3FileStore:
        """The store the ``ASB_FILES_S3_*`` settings describe (``setting`` reads one)."""
        return cls(setting("ASB_FILES_S3_BUCKET"), prefix=setting("ASB_FILES_S3_PREFIX"),
                   endpoint_url=setting("ASB_FILES_S3_ENDPOINT"),
                   region=setting("ASB_FILES_S3_REGION"),
                   encryption=setting("ASB_FILES_S3_SSE"),
                   kms_key_id=setting("ASB_FILES_S3_SSE_KMS_KEY_ID"))

    def key_of(self, name: str) -> str:
        """The object key of the stored file ``name``."""
        return self.prefix + check_name(name)

    def save(self, data: bytes) -> StoredFile:
        """PUT ``data`` as a new object; ``StoreUnavailable`` if the bucket refuses."""
        name = new_name()
        extra: dict[str, str] = {}
        if self.encryption:
            extra["ServerSideEncryption"] = self.encryption
        if self.kms_key_id and self.encryption.startswith("aws:kms"):
            extra["SSEKMSKeyId"] = self.kms_key_id
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key_of(name), Body=data,
                                   ContentType="application/octet-stream", **extra)
        except ClientError as exc:
            raise StoreUnavailable(_code(exc)) from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
        return describe(data, name)

    def _get(self, name: str, action: Callable[..., Any]) -> Any:
        try:
            return action(Bucket=self.bucket, Key=self.key_of(name))
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                raise StoredFileMissing(name) from exc
            raise StoreUnavailable(_code(exc)) from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    def open(self, name: str) -> IO[bytes]:
        """A stream of the object's body (read in chunks; the caller closes it)."""
        return cast(IO[bytes], self._get(name, self.client.get_object)["Body"])

    def read(self, name: str) -> bytes:
        """The whole object; ``StoredFileMissing`` if there is none."""
        with self.open(name) as body:
            try:
                return body.read()
            except (BotoCoreError, OSError) as exc:
                raise StoreUnavailable(type(exc).__name__) from exc

    def size(self, name: str) -> int:
        """The object's size in bytes; ``StoredFileMissing`` if there is none."""
        return int(self._get(name, self.client.head_object)["ContentLength"])

    def delete(self, name: str) -> None:
        """Delete the object (deleting one already gone is no error in S3)."""
        try:
            self._get(name, self.client.delete_object)
        except StoredFileMissing:
            return

    def listing(self) -> Iterator[ListedFile]:
        """Every object under the prefix that has a stored file's name, page by page."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(self.prefix):]
                    if NAME_RE.fullmatch(name):
                        yield ListedFile(name, item["LastModified"])
        except ClientError as exc:
            raise StoreUnavailable(_code(exc)) from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
