import errno
import hashlib
import io
import os

import pytest

from registry.storage import StorageError
from registry.storage.local import LocalStorage

DATA = "천안시 주차 공유".encode() * 100
DIGEST = hashlib.sha256(DATA).hexdigest()


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_named_documents_are_replaced_whole_and_kept_apart_from_blobs(tmp_path):
    blobs = LocalStorage(str(tmp_path))
    assert blobs.get_document("audit-head.json") is None
    blobs.put_document("audit-head.json", "첫 번째".encode())
    blobs.put_document("audit-head.json", "두 번째".encode())
    assert blobs.get_document("audit-head.json") == "두 번째".encode()
    assert list(blobs.digests()) == []
    assert [p.name for p in (tmp_path / "meta").iterdir()] == ["audit-head.json"]  # no temp file left
    blobs.delete_document("audit-head.json")
    assert blobs.get_document("audit-head.json") is None


@pytest.mark.parametrize("name", ["../secret_key", "a/../../x", "a//b", "/abs", "", "Head.json", "a/b/c/d/e"])
def test_document_names_cannot_leave_their_folder(tmp_path, name):
    with pytest.raises(ValueError):  # a programming error, not the storage failing: no 503 for it
        LocalStorage(str(tmp_path)).put_document(name, b"x")


def test_a_full_disk_is_a_storage_error_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    blobs = LocalStorage(str(tmp_path))
    monkeypatch.setattr(os, "fsync", _disk_full)
    with pytest.raises(StorageError) as caught:
        blobs.put(io.BytesIO(DATA), DIGEST)
    assert caught.value.status == 503 and caught.value.code == "storage-unavailable"
    assert caught.value.detail == f"cannot store blob {DIGEST}: {os.strerror(errno.ENOSPC)}"
    assert "REGISTRY_STORAGE_PATH" in caught.value.hint
    assert not blobs.exists(DIGEST) and [p for p in tmp_path.rglob("*") if p.is_file()] == []
    with pytest.raises(StorageError, match="cannot store document audit-head.json"):
        blobs.put_document("audit-head.json", b"{}")


def test_a_missing_or_unreadable_blob_is_a_storage_error(tmp_path, monkeypatch):
    blobs = LocalStorage(str(tmp_path))
    with pytest.raises(StorageError, match=f"blob {DIGEST} is missing"):
        blobs.open(DIGEST)
    with pytest.raises(StorageError, match="missing or unreadable"):
        blobs.local_path(DIGEST)
    assert blobs.put(io.BytesIO(DATA), DIGEST)
    assert blobs.local_path(DIGEST).endswith(DIGEST)

    def io_error(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr("registry.storage.local.open", io_error, raising=False)  # the module's, not pytest's
    with pytest.raises(StorageError, match=f"cannot read blob {DIGEST}: {os.strerror(errno.EIO)}"):
        blobs.open(DIGEST)


# --- the public tree (registry/releases/files.py) ---------------------------------------------

NAME = "cheonan-parking-1.0.0.tar.gz"


def test_publish_hard_links_the_blob_and_unpublish_removes_it_and_its_empty_dirs(tmp_path):
    blobs = LocalStorage(str(tmp_path / "blobs"), str(tmp_path / "public"))
    blobs.put(io.BytesIO(DATA), DIGEST)
    assert blobs.publish(DIGEST, NAME, "application/gzip") is True
    assert blobs.publish(DIGEST, NAME, "application/gzip") is False  # there already
    target = tmp_path / "public" / DIGEST[:2] / DIGEST[2:4] / DIGEST / NAME
    assert target.read_bytes() == DATA and os.stat(target).st_ino == os.stat(blobs.local_path(DIGEST)).st_ino
    assert list(blobs.public_keys()) == [f"{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}/{NAME}"]
    assert list(blobs.digests()) == [DIGEST]  # the tree is not more blobs
    assert blobs.unpublish(next(blobs.public_keys())) is True
    assert list((tmp_path / "public").iterdir()) == [] and blobs.exists(DIGEST)  # the blob stays


def test_publish_copies_across_file_systems(tmp_path, monkeypatch):
    blobs = LocalStorage(str(tmp_path / "blobs"), str(tmp_path / "public"))
    blobs.put(io.BytesIO(DATA), DIGEST)

    def other_device(*args):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
    monkeypatch.setattr(os, "link", other_device)
    assert blobs.publish(DIGEST, NAME, "application/gzip")
    target = tmp_path / "public" / DIGEST[:2] / DIGEST[2:4] / DIGEST / NAME
    assert target.read_bytes() == DATA and oct(target.stat().st_mode & 0o777) == "0o444"


@pytest.mark.parametrize("name", ["../../secret_key", "a/b.tar.gz", ".hidden", "..", "", "이름.tar.gz", "x\x00.gz",
                                  "a..tar.gz", "a" * 201])
def test_publish_refuses_a_name_the_registry_would_not_give(tmp_path, name):
    blobs = LocalStorage(str(tmp_path / "blobs"), str(tmp_path / "public"))
    blobs.put(io.BytesIO(DATA), DIGEST)
    with pytest.raises(ValueError):
        blobs.publish(DIGEST, name, "application/gzip")
    assert not (tmp_path / "public").exists()


def test_publishing_a_missing_blob_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError):
        LocalStorage(str(tmp_path)).publish(DIGEST, NAME, "application/gzip")
