"""Blobs in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, NCloud Object Storage)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from registry.storage.base import BlobStorage, StorageError, blob_key, document_key


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
        self.client.upload_fileobj(fileobj, self.bucket, blob_key(digest))
        return True

    def exists(self, digest: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=blob_key(digest))
            return True
        except ClientError as exc:
            if _not_found(exc):
                return False
            raise StorageError(str(exc)) from exc

    def open(self, digest: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=blob_key(digest))["Body"]
        except Exception as exc:
            raise StorageError(f"blob {digest} is missing: {exc}") from exc

    def presigned_url(self, digest: str, download_name: str, media_type: str, seconds: int) -> str | None:
        from werkzeug.http import dump_options_header

        return self.client.generate_presigned_url("get_object", ExpiresIn=seconds, Params={
            "Bucket": self.bucket, "Key": blob_key(digest), "ResponseContentType": media_type,
            "ResponseContentDisposition": dump_options_header("attachment", {"filename": download_name})})

    def delete(self, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=blob_key(digest))

    def digests(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix="sha256/"):
            for obj in page.get("Contents", []):
                yield obj["Key"].rsplit("/", 1)[-1]

    def put_document(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=document_key(name), Body=data)

    def get_document(self, name: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=document_key(name))["Body"].read()
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise StorageError(str(exc)) from exc

    def delete_document(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=document_key(name))

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise StorageError(f"bucket {self.bucket} unreachable: {exc}") from exc


def _not_found(exc) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")
