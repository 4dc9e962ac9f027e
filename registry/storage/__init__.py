"""Blob storage chosen by configuration."""

from flask import current_app

from registry.storage.base import BlobStorage, StorageError, blob_key, sha256_file  # noqa: F401


def make_storage(config) -> BlobStorage:
    if config["STORAGE_BACKEND"] == "s3":
        from registry.storage.s3 import S3Storage

        return S3Storage(
            bucket=config["S3_BUCKET"], endpoint_url=config["S3_ENDPOINT_URL"], region=config["S3_REGION"],
            access_key_id=config["S3_ACCESS_KEY_ID"], secret_access_key=config["S3_SECRET_ACCESS_KEY"],
        )
    if config["STORAGE_BACKEND"] != "local":
        raise StorageError(f"unknown REGISTRY_STORAGE_BACKEND {config['STORAGE_BACKEND']!r}; use local or s3")
    from registry.storage.local import LocalStorage

    return LocalStorage(config["STORAGE_PATH"], config.get("PUBLIC_FILES_PATH"))


def storage() -> BlobStorage:
    return current_app.extensions["blob_storage"]
