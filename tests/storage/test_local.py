import pytest

from registry.storage import StorageError
from registry.storage.local import LocalStorage


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
    with pytest.raises(StorageError):
        LocalStorage(str(tmp_path)).put_document(name, b"x")
