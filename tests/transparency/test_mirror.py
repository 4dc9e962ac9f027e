"""Offline mirrors: a bundle exported by one registry, verified and served read-only by another.

The origin is the test's `app`; the mirror (tests/transparency/conftest.py) is a second app on the same
engine, SQLite or PostgreSQL, with a database, blob storage and log key of its own.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry import create_app
from registry.db import db
from registry.releases.models import Release, Solution
from registry.releases.service import yank
from registry.spec import note
from registry.spec.tlog import leaf_hash, verify_consistency, verify_inclusion
from registry.storage import storage
from registry.transparency import service
from registry.transparency.models import MirrorCheckpoint, MirrorLeaf, MirrorOrigin
from tests.review.conftest import package


def export(app, out: Path, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=["mirror", "export", str(out), *args])
    assert result.exit_code == 0, result.output


def import_into(mirror_app, bundle: Path, *args: str):
    with mirror_app.app_context():
        return mirror_app.test_cli_runner().invoke(args=["mirror", "import", str(bundle), *args])


def mirror_state(mirror_app) -> dict:
    """Every row and blob a refused import must not leave behind."""
    with mirror_app.app_context():
        counts = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                  for model in (MirrorOrigin, MirrorLeaf, MirrorCheckpoint, Solution, Release)}
        return {**counts, "blobs": sorted(storage().digests())}


def test_a_bundle_is_served_by_the_mirror_read_only_with_the_origins_proofs(app, publish, mirror_app, tmp_path,
                                                                             vendor_token):
    release = publish()
    origin_key = service.verifier()
    bundle = tmp_path / "bundle.tar"
    export(app, bundle)

    result = import_into(mirror_app, bundle)
    assert result.exit_code == 0, result.output
    assert "imported 1 releases and 1 leaves of solreg.test/log" in result.output

    web = mirror_app.test_client()
    served = web.get("/api/v1/solutions/parking-share/releases/1.2.0").json["release"]
    assert served["mirrored_from"] == "solreg.test/log" and served["state"] == "published"
    assert served["sha256"] == release.sha256 and served["transparency"] == {"leaf_index": 0,
                                                                           "origin": "solreg.test/log"}
    assert web.get(served["archive_url"]).data == package()
    assert "/files/" in served["archive_url"]  # its public URL, and the mirror's public tree has the file:
    key = served["archive_url"].split("/files/", 1)[1]
    assert (Path(mirror_app.config["PUBLIC_FILES_PATH"]) / key).read_bytes() == package()

    # The mirror serves the ORIGIN's signed head and proofs: a client checks them with the origin's key.
    signed = web.get("/api/v1/log/checkpoint?origin=solreg.test/log").get_data(as_text=True)
    head = note.open_checkpoint(signed, origin_key, "solreg.test/log")[0]
    assert web.get("/api/v1/log/key?origin=solreg.test/log").get_data(as_text=True).strip() == origin_key.encode()
    [leaf] = web.get("/api/v1/log/leaves?origin=solreg.test/log").json["leaves"]
    proof = web.get(f"/api/v1/log/proof/inclusion?origin=solreg.test/log&index=0&size={head.size}").json["proof"]
    verify_inclusion(0, head.size, leaf_hash(leaf["data"].encode()), [bytes.fromhex(p) for p in proof], head.root)
    assert web.get("/api/v1/log/checkpoint?origin=other.test/log").status_code == 404
    # The mirror's own log is untouched by the import.
    assert web.get("/api/v1/log/leaves").json["size"] == 0

    page = web.get("/solutions/parking-share", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "solreg.test/log에서 미러링됨" in page

    with mirror_app.app_context():
        from registry.accounts import service as accounts

        user = accounts.create_user("mirrorvendor", "mv@example.org", "correct-horse-1")
        accounts.add_member(db.session.scalar(select(Solution)).org, user, "owner")
        db.session.commit()
        token = accounts.issue_token(user, accounts.get_org("hanbit"), ["publish", "yank"]).raw
        db.session.commit()
        db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    upload = web.post("/api/v1/solutions/parking-share/releases", headers=auth, content_type="multipart/form-data",
                      data={"archive": (io.BytesIO(package(version="1.3.0")), "parking-share.tar.gz")})
    assert upload.status_code == 409 and upload.json["errors"][0]["code"] == "mirrored-read-only"
    yank = web.post("/api/v1/solutions/parking-share/releases/1.2.0/yank", headers=auth, json={"reason": "테스트"})
    assert yank.status_code == 409 and yank.json["errors"][0]["code"] == "mirrored-read-only"


def test_an_incremental_bundle_brings_the_origins_yank_and_new_releases(app, publish, mirror_app, tmp_path):
    first = publish("1.2.0")
    export(app, tmp_path / "full.tar")
    assert import_into(mirror_app, tmp_path / "full.tar").exit_code == 0
    since = service.log_size()

    yank(_vendor_api_token(), first, "개인정보 노출 취약점")
    db.session.commit()
    publish("1.3.0")
    # A bundle that starts past what the mirror has would leave a gap: refused.
    export(app, tmp_path / "gap.tar", "--since", "3")
    gap = import_into(mirror_app, tmp_path / "gap.tar")
    assert gap.exit_code == 1 and "import the bundles in between first" in gap.output, gap.output

    export(app, tmp_path / "next.tar", "--since", str(since))
    with tarfile.open(tmp_path / "next.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert [r["version"] for r in manifest["releases"]] == ["1.3.0"] and manifest["base_size"] == since

    result = import_into(mirror_app, tmp_path / "next.tar")
    assert result.exit_code == 0, result.output
    web = mirror_app.test_client()
    yanked = web.get("/api/v1/solutions/parking-share/releases/1.2.0").json["release"]
    assert yanked["state"] == "yanked" and yanked["yank_reason"] == "개인정보 노출 취약점"
    assert web.get("/api/v1/solutions/parking-share/releases/1.3.0").json["release"]["state"] == "published"
    proof = web.get(f"/api/v1/log/proof/consistency?origin=solreg.test/log&old={since}&new=3").json["proof"]
    with app.app_context():
        roots = {c.tree_size: bytes.fromhex(c.root_hash) for c in db.session.scalars(select(service.Checkpoint))}
    verify_consistency(since, 3, roots[since], roots[3], [bytes.fromhex(p) for p in proof])


def _vendor_api_token():
    from registry.accounts.models import ApiToken

    return db.session.scalar(select(ApiToken).order_by(ApiToken.id).limit(1))


# --- refused bundles: one line, exit 1, nothing written --------------------------------------------

def _rewrite(bundle: Path, out: Path, change) -> Path:
    """Copy the bundle member by member, letting `change(name, data)` return new bytes (or None to drop)."""
    with tarfile.open(bundle) as source, tarfile.open(out, "w") as target:
        for member in source:
            data = change(member.name, source.extractfile(member).read())
            if data is not None:
                info = tarfile.TarInfo(member.name)
                info.size = len(data)
                target.addfile(info, io.BytesIO(data))
    return out


def _flip_first_blob_byte(name: str, data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:] if name.startswith("blobs/") else data


def _edit_leaf(name: str, data: bytes) -> bytes:
    return data.replace(b"parking-share", b"parking-shard", 1) if name == "leaves.jsonl" else data


def _edit_checkpoint(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    manifest = json.loads(data)
    origin, size, rest = manifest["checkpoint"].split("\n", 2)
    manifest["checkpoint"] = "\n".join([origin, str(int(size) + 1), rest])
    return json.dumps(manifest).encode()


def _drop_blob(name: str, data: bytes) -> bytes | None:
    return None if name.startswith("blobs/") else data


def _unknown_org_kind(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    manifest = json.loads(data)
    manifest["releases"][0]["org"]["kind"] = "협회"  # not in the signed leaf: the import must check it itself
    return json.dumps(manifest).encode()


@pytest.mark.parametrize("change, reason", [
    (_flip_first_blob_byte, "its content does not have that sha256"),
    (_edit_leaf, "do not make the root its checkpoint signs"),
    (_edit_checkpoint, "does not verify with the origin's key"),
    (_drop_blob, "is not in the bundle"),
    (_unknown_org_kind, "its organization is of a kind this registry does not know"),
])
def test_a_tampered_bundle_is_refused_and_nothing_is_written(app, publish, mirror_app, tmp_path, change, reason):
    publish()
    export(app, tmp_path / "bundle.tar")
    before = mirror_state(mirror_app)
    result = import_into(mirror_app, _rewrite(tmp_path / "bundle.tar", tmp_path / "bad.tar", change))
    assert result.exit_code == 1 and reason in result.output, result.output
    error, hint = result.output.splitlines()
    assert error.startswith("Error: bundle refused: ") and hint.startswith("Hint: nothing was imported")
    assert mirror_state(mirror_app) == before == {"MirrorOrigin": 0, "MirrorLeaf": 0, "MirrorCheckpoint": 0,
                                                  "Solution": 0, "Release": 0, "blobs": []}


def test_a_truncated_bundle_is_refused(app, publish, mirror_app, tmp_path):
    publish()
    export(app, tmp_path / "bundle.tar")
    data = (tmp_path / "bundle.tar").read_bytes()
    (tmp_path / "cut.tar").write_bytes(data[:len(data) // 2])
    result = import_into(mirror_app, tmp_path / "cut.tar")
    assert result.exit_code == 1 and "bundle refused:" in result.output, result.output
    assert mirror_state(mirror_app)["Release"] == 0 and mirror_state(mirror_app)["blobs"] == []


@pytest.mark.parametrize("member", ["../escape", "/etc/cron.d/x", "blobs/../../x", "blobs/" + "a" * 64 + "/x"])
def test_a_bundle_with_foreign_paths_is_refused(app, publish, mirror_app, tmp_path, member):
    publish()
    export(app, tmp_path / "bundle.tar")

    def add(name: str, data: bytes) -> bytes:
        return data

    bad = _rewrite(tmp_path / "bundle.tar", tmp_path / "bad.tar", add)
    with tarfile.open(bad, "a") as tar:
        info = tarfile.TarInfo(member)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    result = import_into(mirror_app, bad)
    assert result.exit_code == 1 and "is not part of a mirror bundle" in result.output, result.output
    assert mirror_state(mirror_app)["Release"] == 0 and not (tmp_path / "escape").exists()


def test_a_symlink_member_is_refused(app, publish, mirror_app, tmp_path):
    publish()
    export(app, tmp_path / "bundle.tar")
    with tarfile.open(tmp_path / "bundle.tar", "a") as tar:
        link = tarfile.TarInfo("blobs/" + "b" * 64)
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    result = import_into(mirror_app, tmp_path / "bundle.tar")
    assert result.exit_code == 1 and "is not a regular file" in result.output


def _second_origin(app_config, sqlite_template, tmp_path, key_path: Path):
    """Another registry calling its log solreg.test/log: with its own key, or (a fork) with the same key."""
    path = tmp_path / "other.db"
    shutil.copy(sqlite_template, path)
    return create_app({**app_config, "DATABASE_URL": f"sqlite:///{path}", "STORAGE_PATH": str(tmp_path / "oblobs"),
                       "LOG_KEY_PATH": str(key_path), "LOG_ORIGIN": "solreg.test/log"})


def _publish_on(other, version: str) -> None:
    from registry.accounts import service as accounts
    from registry.review import service as review

    with other.app_context():
        vendor = accounts.create_user("vendor", "vendor@example.org", "correct-horse-1")
        accounts.add_member(accounts.create_org("hanbit", "한빛", "vendor"), vendor, "owner")
        reviewer = accounts.create_user("reviewer", "reviewer@example.org", "correct-horse-1", "reviewer")
        accounts.add_member(accounts.create_org("agency", "검토기관", "agency"), reviewer, "member")
        token = accounts.issue_token(vendor, accounts.get_org("hanbit"), ["publish"]).raw
        db.session.commit()
        db.session.commit()
        response = other.test_client().post(
            "/api/v1/solutions/parking-share/releases", headers={"Authorization": f"Bearer {token}"},
            content_type="multipart/form-data",
            data={"archive": (io.BytesIO(package(version=version)), "parking-share.tar.gz")})
        assert response.status_code == 201, response.json
        assert review.decide(reviewer, db.session.get(Release, response.json["release"]["id"]), "approve").published
        db.session.commit()


@pytest.mark.parametrize("same_key, reason", [(False, "signed by the unknown key"), (True, "forked history")])
def test_a_bundle_from_another_key_or_a_forked_history_is_refused(app, publish, mirror_app, app_config, sqlite_template,
                                                                   tmp_path, same_key, reason):
    publish("1.2.0")
    export(app, tmp_path / "first.tar")
    assert import_into(mirror_app, tmp_path / "first.tar").exit_code == 0
    before = mirror_state(mirror_app)

    key_path = Path(app.config["LOG_KEY_PATH"]) if same_key else tmp_path / "other_key"
    other = _second_origin(app_config, sqlite_template, tmp_path, key_path)
    _publish_on(other, "1.3.0")
    with other.app_context():
        export(other, tmp_path / "other.tar")
        db.engine.dispose()
    result = import_into(mirror_app, tmp_path / "other.tar")
    assert result.exit_code == 1 and reason in result.output, result.output
    assert mirror_state(mirror_app) == before


def test_an_unknown_key_is_refused_on_first_import_when_the_key_is_given(app, publish, mirror_app, tmp_path):
    publish()
    export(app, tmp_path / "bundle.tar")
    stranger = note.Signer.generate("solreg.test/log").verifier.encode()
    result = import_into(mirror_app, tmp_path / "bundle.tar", "--origin-key", stranger)
    assert result.exit_code == 1 and "signed by the unknown key" in result.output
    assert import_into(mirror_app, tmp_path / "bundle.tar", "--origin-key",
                       service.verifier().encode()).exit_code == 0


def test_audit_anchors_travel_in_the_bundle_and_are_checked_like_any_leaf(app, publish, mirror_app, tmp_path):
    from registry.transparency.anchor import anchor_audit_head

    publish()
    assert anchor_audit_head() is not None  # the origin's worker anchored its audit chain
    db.session.commit()
    release = publish("1.3.0")
    bundle = tmp_path / "bundle.tar"
    export(app, bundle)

    result = import_into(mirror_app, bundle)
    assert result.exit_code == 0, result.output
    assert "imported 2 releases and 3 leaves" in result.output
    with mirror_app.app_context():
        kinds = db.session.scalars(select(MirrorLeaf.kind).order_by(MirrorLeaf.index)).all()
        assert kinds == ["release.published", "audit.anchor", "release.published"]
        assert db.session.scalar(select(MirrorLeaf.release_id).where(MirrorLeaf.index == 2)) is not None
    served = mirror_app.test_client().get("/api/v1/solutions/parking-share/releases/1.3.0").json["release"]
    assert served["sha256"] == release.sha256 and served["transparency"]["leaf_index"] == 2
