"""Uploading releases through the API: the happy path, idempotency, and every refusal leaving nothing behind."""

import errno
import gzip
import hashlib
import io
import json
import os
import random
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.db import db
from registry.releases.models import Artifact, Check, Release, Solution
from tests.publishing.packages import archive, build_archive, package_files


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def blob_files(app) -> list[Path]:
    root = Path(app.config["STORAGE_PATH"])
    return [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")]


def assert_nothing_left(app):
    assert count(Release) == 0 and count(Artifact) == 0 and count(Solution) == 0
    assert blob_files(app) == []


def test_upload_creates_a_pending_release(app, upload, vendor_token):
    data = archive()
    response = upload(vendor_token, data, sha256=hashlib.sha256(data).hexdigest())
    assert response.status_code == 201, response.json
    body = response.json
    assert body["created"] is True
    release = body["release"]
    assert release["state"] == "pending_review" and release["version"] == "1.2.0"
    assert release["sha256"] == hashlib.sha256(data).hexdigest()
    assert release["queue_position"] == 1
    digest = release["sha256"]
    assert (Path(app.config["STORAGE_PATH"]) / "sha256" / digest[:2] / digest[2:4] / digest).read_bytes() == data
    stored = db.session.scalar(select(Release))
    assert {a.kind for a in stored.artifacts} == {"archive", "sbom"}
    sbom = package_files()["sbom.cdx.json"]
    (artifact,) = [a for a in stored.artifacts if a.kind == "sbom"]
    assert (artifact.sha256, artifact.size) == (hashlib.sha256(sbom).hexdigest(), len(sbom))
    assert {t.kind for t in stored.deploy_targets} == {"helm", "compose"}
    assert {r.entity_type for r in stored.datahub_requirements} == {"OffStreetParking", "ParkingSpot"}
    checks = {c.name: c.status for c in db.session.scalars(select(Check))}
    assert checks["archive"] == "pass" and checks["provenance"] == "warn"  # unsigned
    assert "release.upload" in {e.action for e in db.session.scalars(select(AuditEvent))}


def test_identical_reupload_is_200_and_different_bytes_409(upload, vendor_token):
    data = archive()
    assert upload(vendor_token, data).status_code == 201
    again = upload(vendor_token, data)
    assert again.status_code == 200 and again.json["created"] is False
    files = package_files()
    files["README.md"] = b"# changed\n"
    other = upload(vendor_token, build_archive(files))
    assert other.status_code == 409
    assert "immutable" in other.json["errors"][0]["detail"]
    assert count(Release) == 1


def test_names_fold_case_and_separators(upload, vendor_token, make_user, make_token):
    assert upload(vendor_token).status_code == 201
    rival = make_token(make_user("rival", org="rivalco"), "rivalco")
    response = upload(rival, archive("parking-share", "9.9.9"), name="Parking_Share")
    assert response.status_code == 403
    assert count(Release) == 1


def test_downloads_stream_with_etag_range_and_count(client, upload, vendor_token):
    data = archive()
    digest = upload(vendor_token, data).json["release"]["sha256"]
    auth = {"Authorization": f"Bearer {vendor_token}"}
    url = "/api/v1/solutions/parking-share/releases/1.2.0/archive"
    with client.get(url, headers=auth) as response:  # closed, as a WSGI server closes every response
        assert response.status_code == 200 and response.data == data
        assert response.headers["ETag"] == f'"{digest}"'
    with client.get(url, headers={**auth, "If-None-Match": f'"{digest}"'}) as cached:
        assert cached.status_code == 304
    with client.get(url, headers={**auth, "Range": "bytes=0-9"}) as partial:
        assert partial.status_code == 206 and partial.data == data[:10]
    with client.get("/api/v1/solutions/parking-share/releases/1.2.0/sbom", headers=auth) as sbom:
        assert sbom.data == package_files()["sbom.cdx.json"]  # the original bytes, unchanged
    # One download: a revalidation (304), a range of the same archive (206) and the SBOM are not counted.
    assert db.session.scalar(select(Release.download_count)) == 1


def test_pending_release_is_hidden_from_the_public(client, upload, vendor_token):
    upload(vendor_token)
    assert client.get("/api/v1/solutions/parking-share/releases/1.2.0").status_code == 404
    assert client.get("/api/v1/solutions/parking-share/releases/1.2.0/archive").status_code == 404
    assert client.get("/api/v1/solutions/parking-share", headers={"Authorization": f"Bearer {vendor_token}"}
                      ).json["solution"]["releases"][0]["state"] == "pending_review"


# --- refusals: each leaves nothing behind -------------------------------------------------

def test_missing_or_bad_token(app, upload, vendor_token):
    assert upload("solreg_wrong").status_code == 401
    assert upload("").status_code == 401
    assert_nothing_left(app)


def test_wrong_scope_and_other_org(app, upload, make_user, make_token, vendor_token):
    reader = make_token(make_user("reader", org="hanbit", member_role="member"), "hanbit", ["read"])
    assert upload(reader).status_code == 403
    assert upload(vendor_token).status_code == 201
    outsider = make_token(make_user("outsider", org="elsewhere"), "elsewhere", ["publish"])
    response = upload(outsider, archive("parking-share", "1.3.0"))
    assert response.status_code == 403
    assert count(Release) == 1


def test_token_bound_to_another_solution(app, upload, make_user, make_token):
    token = make_token(make_user("kim", org="hanbit"), "hanbit", ["publish"], solution="something-else")
    response = upload(token)
    assert response.status_code == 403 and "limited" in response.json["errors"][0]["detail"]
    assert_nothing_left(app)


@pytest.mark.parametrize("changes,field", [
    ({"name": "other-name"}, "name"),
    ({"license": "nonsense"}, None),
])
def test_name_mismatch_and_invalid_manifest(app, upload, vendor_token, changes, field):
    if "license" in changes:
        files = package_files()
        files["solution.yaml"] = files["solution.yaml"].replace(b"license: Apache-2.0", b"license: Not-A-Licence")
        data = build_archive(files)
    else:
        data = build_archive(package_files("other-name"), root="other-name-1.2.0")
    response = upload(vendor_token, data)
    assert response.status_code == 422, response.json
    error = response.json["errors"][0]
    if field:
        assert error["field"] == field
    else:
        assert error["code"] == "manifest-invalid" and "legal.license" in error["field"]
    assert_nothing_left(app)


def test_missing_sbom(app, upload, vendor_token):
    files = package_files()
    del files["sbom.cdx.json"]
    response = upload(vendor_token, build_archive(files))
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "sbom"
    assert_nothing_left(app)


def _tar_with(member: tarfile.TarInfo, data: bytes = b"") -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path, content in package_files().items():
            info = tarfile.TarInfo(f"parking-share-1.2.0/{path}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        tar.addfile(member, io.BytesIO(data) if data else None)
    return gzip.compress(raw.getvalue(), mtime=0)


def _member(name, kind=tarfile.REGTYPE, linkname="", size=0):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, linkname, size
    return info


@pytest.mark.parametrize("data,code", [pytest.param(*case, id=case[1]) for case in [
    (_tar_with(_member("parking-share-1.2.0/../../etc/passwd", size=1), b"x"), "archive-path-traversal"),
    (_tar_with(_member("/etc/passwd", size=1), b"x"), "archive-absolute-path"),
    (_tar_with(_member("parking-share-1.2.0/link", tarfile.SYMTYPE, "/etc/passwd")), "archive-symlink"),
    (_tar_with(_member("parking-share-1.2.0/hard", tarfile.LNKTYPE, "parking-share-1.2.0/README.md")), "archive-hardlink"),
    (_tar_with(_member("parking-share-1.2.0/dev", tarfile.CHRTYPE)), "archive-special-file"),
    (archive()[:-40], "archive-truncated"),
    (b"this is not an archive at all", "archive-not-gzip"),
    (gzip.compress(b"plain text, not a tar " * 100), "archive-not-tar"),
]])
def test_unsafe_archives_are_refused(app, upload, vendor_token, data, code):
    response = upload(vendor_token, data)
    assert response.status_code == 422, response.json
    assert response.json["errors"][0]["code"] == code
    assert_nothing_left(app)


def test_gzip_bomb_is_refused_by_ratio(app, upload, vendor_token, tmp_path):
    bomb = io.BytesIO()
    with gzip.GzipFile(fileobj=bomb, mode="wb") as gz:
        with tarfile.open(fileobj=gz, mode="w|") as tar:
            info = tarfile.TarInfo("parking-share-1.2.0/zeros")
            info.size = 1024**3

            class Zeros(io.RawIOBase):
                left = info.size

                def readable(self):
                    return True

                def readinto(self, b):
                    n = min(len(b), self.left)
                    b[:n] = bytes(n)
                    self.left -= n
                    return n

            tar.addfile(info, io.BufferedReader(Zeros(), 1024 * 1024))
    response = upload(vendor_token, bomb.getvalue())
    assert response.status_code == 422 and response.json["errors"][0]["code"] == "archive-ratio"
    assert_nothing_left(app)


def test_over_cap_upload_is_413(app, upload, vendor_token):
    app.config["MAX_UPLOAD_MB"] = 1
    response = upload(vendor_token, archive() + b"\0" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert_nothing_left(app)


def test_declared_sha256_must_match(app, upload, vendor_token):
    response = upload(vendor_token, sha256="0" * 64)
    assert response.status_code == 400 and response.json["errors"][0]["code"] == "digest-mismatch"
    assert_nothing_left(app)


def _disk_fills_at_fsync(monkeypatch, after: int) -> None:
    """Blob storage's fsync succeeds `after` times, then the disk is full (as on a real ENOSPC)."""
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("stored_first", [0, 1], ids=["archive-fails", "sbom-fails-after-the-archive"])
def test_a_full_disk_is_503_with_a_hint_and_leaves_nothing_behind(app, upload, vendor_token, monkeypatch,
                                                                     stored_first):
    _disk_fills_at_fsync(monkeypatch, after=stored_first)
    response = upload(vendor_token)
    assert response.status_code == 503 and response.mimetype == "application/json"
    error = response.json["errors"][0]
    assert error["code"] == "storage-unavailable" and os.strerror(errno.ENOSPC) in error["detail"]
    assert "REGISTRY_STORAGE_PATH" in error["hint"] and "Traceback" not in response.get_data(as_text=True)
    assert_nothing_left(app)  # the archive stored before the SBOM failed is removed again
    assert list((Path(app.config["STORAGE_PATH"]) / ".incoming").iterdir()) == []  # nor a spool file
    monkeypatch.undo()
    assert upload(vendor_token).status_code == 201  # space again: the same upload goes through


def test_the_archive_is_fsynced_while_it_is_inspected(app, upload, vendor_token, monkeypatch):
    """The spool's fsync runs in the background during the inspection and ends before the blob is renamed."""
    import threading

    from registry.publishing import service

    spool_synced, events = threading.Event(), []
    real_fsync, real_inspect, real_replace = os.fsync, service.inspect_archive, os.replace

    def fsync(fd):
        real_fsync(fd)
        if os.readlink(f"/proc/self/fd/{fd}").split("/")[-1].startswith(".upload-"):
            events.append(("spool synced", threading.current_thread() is threading.main_thread()))
            spool_synced.set()

    def inspect_archive(stream):
        events.append(("inspection waited", spool_synced.wait(10)))  # no fsync before this: times out
        return real_inspect(stream)

    def replace(source, target):
        if Path(source).name.startswith(".upload-"):
            events.append(("spool renamed", True))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(service, "inspect_archive", inspect_archive)
    monkeypatch.setattr(os, "replace", replace)
    assert upload(vendor_token).status_code == 201
    assert events == [("spool synced", False), ("inspection waited", True), ("spool renamed", True)]


def test_a_spool_that_cannot_be_made_is_503(app, upload, vendor_token, monkeypatch):
    from registry.publishing import uploads

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(uploads.tempfile, "NamedTemporaryFile", disk_full)
    response = upload(vendor_token)
    assert response.status_code == 503 and response.json["errors"][0]["code"] == "storage-unavailable"
    assert response.json["errors"][0]["detail"] == f"cannot spool the upload: {os.strerror(errno.ENOSPC)}"
    assert_nothing_left(app)


def test_a_blob_that_cannot_be_removed_again_is_logged_for_gc(app, upload, vendor_token, monkeypatch, caplog):
    from registry.storage import StorageError
    from registry.storage.local import LocalStorage

    _disk_fills_at_fsync(monkeypatch, after=1)

    def delete(self, digest):
        raise StorageError(f"cannot delete blob {digest}: Read-only file system")

    monkeypatch.setattr(LocalStorage, "delete", delete)
    response = upload(vendor_token)
    assert response.status_code == 503 and "cannot store blob" in response.json["errors"][0]["detail"]
    assert count(Release) == 0 and len(blob_files(app)) == 1
    assert "left behind by a failed upload" in caplog.text


def test_archived_solution_takes_no_uploads(app, upload, vendor_token):
    from registry.releases.service import set_solution_state

    upload(vendor_token)
    solution = db.session.scalar(select(Solution))
    user = solution.releases[0].uploader
    set_solution_state(user, solution, "archived")
    db.session.commit()
    response = upload(vendor_token, archive("parking-share", "1.3.0"))
    assert response.status_code == 409 and response.json["errors"][0]["code"] == "solution-archived"


def test_operator_catalogue_extension_makes_a_type_known(app, upload, vendor_token):
    extension = Path(__file__).resolve().parents[1] / "fixtures" / "catalogue" / "extension.json"
    entities = [{"type": "CheonanBusShelter", "access": ["read"],
                 "attributes": [{"name": "heated", "attributeType": "Property"}]}]
    data = archive(dataHub={"api": "ngsi-ld", "specVersion": ">=1.6.1", "entities": entities})
    assert upload(vendor_token, data).status_code == 201
    assert db.session.scalar(select(Check).where(Check.name == "datahub")).status == "warn"
    db.session.execute(Release.__table__.delete())
    db.session.commit()
    app.config["ENTITY_CATALOGUE_EXTRA"] = str(extension)
    assert upload(vendor_token, archive("parking-share", "1.2.1", dataHub={
        "api": "ngsi-ld", "specVersion": ">=1.6.1", "entities": entities})).status_code == 201
    latest = db.session.scalar(select(Check).where(Check.name == "datahub").order_by(Check.id.desc()))
    assert latest.status == "pass"


# --------------------------------------------------------------- one inspection for CLI and server

def _bad_packages() -> dict[str, bytes]:
    from tests.publishing.packages import sbom

    files = package_files()
    schema_broken = json.loads(sbom("parking-share", "1.2.0"))
    schema_broken["components"][0]["type"] = "주차장"  # not a CycloneDX component type
    manifest_nul = files["solution.yaml"].replace(b"\nsummary:", b"\nsummary:\n  nul: \"\\0\"", 1)
    oversized = json.loads(sbom("parking-share", "1.2.0"))
    # About 1.5 MB of hex: over a 1 MiB cap, and not so compressible that the ratio guard answers first.
    oversized["metadata"]["component"]["description"] = "주차 " + random.Random(13).randbytes(750_000).hex()
    return {
        "sbom-schema": build_archive({**files, "sbom.cdx.json": json.dumps(schema_broken).encode()}),
        "spdx-malformed": build_archive({**files, "sbom.cdx.json": b"SPDXVersion: SPDX-2.3\nDataLicense: \n"}),
        "manifest-nul": build_archive({**files, "solution.yaml": manifest_nul}),
        "sbom-over-cap": build_archive({**files, "sbom.cdx.json": json.dumps(oversized).encode()}),
    }


@pytest.mark.parametrize("case", ["sbom-schema", "spdx-malformed", "manifest-nul", "sbom-over-cap"])
def test_solreg_check_refuses_what_the_server_refuses_with_the_same_code_and_message(
        app, upload, vendor_token, tmp_path, case):
    from publisher_cli.commands.check import inspect_archive_file
    from registry.spec.limits import Limits

    app.config["SBOM_MAX_MB"] = 1
    data = _bad_packages()[case]
    response = upload(vendor_token, data)
    assert response.status_code == 422, response.get_json()
    server = response.get_json()["errors"][0]

    archive = tmp_path / "parking-share-1.2.0.tar.gz"
    archive.write_bytes(data)
    cli = inspect_archive_file(archive, Limits.from_settings(app.config))[0]
    assert (cli.severity, cli.code, cli.message, cli.path) == ("error", server["code"], server["detail"], server["field"])
