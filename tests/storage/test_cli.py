import os
from pathlib import Path

from sqlalchemy import select

from registry.db import db
from registry.releases.models import Release


def blob_path(app, digest: str) -> Path:
    return Path(app.config["STORAGE_PATH"]) / "sha256" / digest[:2] / digest[2:4] / digest


def test_verify_reports_tampered_and_missing_blobs(app, upload, vendor_token):
    upload(vendor_token)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["storage", "verify"])
    assert ok.exit_code == 0 and "verified" in ok.output
    digest = db.session.scalar(select(Release.sha256))
    path = blob_path(app, digest)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")
    bad = runner.invoke(args=["storage", "verify"])
    assert bad.exit_code == 1 and f"MISMATCH {digest}" in bad.output
    path.unlink()
    missing = runner.invoke(args=["storage", "verify"])
    assert missing.exit_code == 1 and f"MISSING  {digest}" in missing.output


def test_gc_removes_only_unreferenced_blobs(app, upload, vendor_token):
    import io

    upload(vendor_token)
    store = app.extensions["blob_storage"]
    orphan = "f" * 64
    store.put(io.BytesIO(b"orphan"), orphan)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["storage", "gc", "--dry-run"])
    assert dry.exit_code == 0 and f"would remove {orphan}" in dry.output and store.exists(orphan)
    result = runner.invoke(args=["storage", "gc"])
    assert result.exit_code == 0 and "1 unreferenced blob(s) removed" in result.output
    assert not store.exists(orphan)
    assert store.exists(db.session.scalar(select(Release.sha256)))


def test_storage_down_ends_a_command_with_one_line_and_a_hint(app, monkeypatch):
    from registry.storage import StorageError

    def down():
        raise StorageError("cannot list the blobs: Input/output error")

    monkeypatch.setattr(app.extensions["blob_storage"], "digests", down)
    result = app.test_cli_runner().invoke(args=["storage", "verify"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.splitlines() == ["Error: cannot list the blobs: Input/output error", f"Hint: {StorageError.hint}"]
