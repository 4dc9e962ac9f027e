"""Blobs in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, NCloud Object Storage)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import BinaryIO

from registry.storage.base import (
    PUBLIC_CACHE_CONTROL,
    BlobStorage,
    StorageError,
    blob_key,
    document_key,
    failures_as_storage_error,
    public_key,
)

PUBLIC_PREFIX = "files/"  # the public tree in the bucket: the operator makes this prefix (only) world-readable


class S3Storage(BlobStorage):
    def __init__(self, *, bucket: str, endpoint_url: str | None, region: str | None,
                 access_key_id: str | None, secret_access_key: str | None):
        import boto3  # imported here: only operators who choose S3 pay for it

        if not bucket:
            raise StorageError("REGISTRY_S3_BUCKET must be set when REGISTRY_STORAGE_BACKEND=s3")
        self.bucket = bucket
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
        )

    def put(self, fileobj: BinaryIO, digest: str) -> bool:
        if self.exists(digest):
            return False
        # An object appears whole or not at all, which gives the atomicity a rename gives locally.
        fileobj.seek(0)
        with _failures(f"cannot store blob {digest}"):
            self.client.upload_fileobj(fileobj, self.bucket, blob_key(digest))
        return True

    def exists(self, digest: str) -> bool:
        return self._has(blob_key(digest))

    def open(self, digest: str) -> BinaryIO:
        with _failures(f"cannot read blob {digest}"):
            return self.client.get_object(Bucket=self.bucket, Key=blob_key(digest))["Body"]

    def presigned_url(self, digest: str, download_name: str, media_type: str, seconds: int) -> str | None:
        from werkzeug.http import dump_options_header

        return self.client.generate_presigned_url("get_object", ExpiresIn=seconds, Params={
            "Bucket": self.bucket, "Key": blob_key(digest), "ResponseContentType": media_type,
            "ResponseContentDisposition": dump_options_header("attachment", {"filename": download_name})})

    def delete(self, digest: str) -> None:
        with _failures(f"cannot delete blob {digest}"):
            self.client.delete_object(Bucket=self.bucket, Key=blob_key(digest))

    def digests(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with _failures("cannot list the blobs"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix="sha256/"):
                for obj in page.get("Contents", []):
                    yield obj["Key"].rsplit("/", 1)[-1]

    def put_document(self, name: str, data: bytes) -> None:
        with _failures(f"cannot store document {name}"):
            self.client.put_object(Bucket=self.bucket, Key=document_key(name), Body=data)

    def get_document(self, name: str) -> bytes | None:
        from botocore.exceptions import ClientError

        with _failures(f"cannot read document {name}"):
            try:
                return self.client.get_object(Bucket=self.bucket, Key=document_key(name))["Body"].read()
            except ClientError as exc:
                if _not_found(exc):
                    return None
                raise

    def delete_document(self, name: str) -> None:
        with _failures(f"cannot delete document {name}"):
            self.client.delete_object(Bucket=self.bucket, Key=document_key(name))

    def publish(self, digest: str, filename: str, media_type: str) -> bool:
        from werkzeug.http import dump_options_header

        key = public_key(digest, filename)
        if self._has(PUBLIC_PREFIX + key):
            return False
        with _failures(f"cannot publish blob {digest}"):  # a server-side copy: no bytes through the registry
            self.client.copy_object(
                Bucket=self.bucket, Key=PUBLIC_PREFIX + key, CopySource={"Bucket": self.bucket, "Key": blob_key(digest)},
                MetadataDirective="REPLACE", ContentType=media_type, CacheControl=PUBLIC_CACHE_CONTROL,
                ContentDisposition=dump_options_header("attachment", {"filename": filename}))
        return True

    def unpublish(self, key: str) -> bool:
        if not self._has(PUBLIC_PREFIX + key):
            return False
        with _failures(f"cannot take {key} out of the public tree"):
            self.client.delete_object(Bucket=self.bucket, Key=PUBLIC_PREFIX + key)
        return True

    def public_keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with _failures("cannot list the public tree"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=PUBLIC_PREFIX):
                for obj in page.get("Contents", []):
                    yield obj["Key"].removeprefix(PUBLIC_PREFIX)

    def _has(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        with _failures(f"cannot look up {key}"):
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
                return True
            except ClientError as exc:
                if _not_found(exc):
                    return False
                raise

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise StorageError(f"bucket {self.bucket} unreachable: {exc}") from exc


def _boto_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return BotoCoreError, ClientError


def _failures(what: str) -> AbstractContextManager[None]:
    return failures_as_storage_error(what, _boto_errors())


def _not_found(exc) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")
