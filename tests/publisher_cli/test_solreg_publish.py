"""``solreg publish`` end to end against the stub registry (CLI in a subprocess)."""

import hashlib

import git

from publisher_cli.commands.keys import generate_signing_key, load_signing_key
from registry.spec.provenance import key_id, verify_envelope

UPLOAD = "/api/v1/solutions/parking-share/releases"


def release(stub, sha256="0" * 64, **extra):
    record = {"name": "parking-share", "version": "1.2.0", "state": "pending_review", "sha256": sha256,
              "size": 1, "created_at": "2024-03-02T00:00:00Z", "url": f"{stub.url}/solutions/parking-share/1.2.0",
              "archive_url": f"{UPLOAD}/1.2.0/archive", "provenance_url": None, "signature_url": None,
              "sbom_url": f"{UPLOAD}/1.2.0/sbom", "signer": None, "provenance": None, "queue_position": 3,
              "reviews": [], "yank_reason": None, "org": "cheonan"}
    record.update(extra)
    return record


def env_for(stub):
    return {"SOLREG_REGISTRY_URL": stub.url, "SOLREG_TOKEN": "solreg_publisher"}


def test_publish_uploads_a_signed_release(solreg, stub, solution_repo, multipart):
    _, keyid = generate_signing_key()
    stub.on("POST", UPLOAD, (201, {"created": True, "release": release(stub)}))
    result = solreg("publish", str(solution_repo), env=env_for(stub))
    assert result.returncode == 0, result.stderr
    assert "published parking-share@1.2.0" in result.stdout
    assert "state:          pending_review" in result.stdout
    assert "queue position: 3" in result.stdout
    assert f"url:            {stub.url}/solutions/parking-share/1.2.0" in result.stdout

    (upload,) = stub.hits("POST", UPLOAD)
    assert upload.headers["Authorization"] == "Bearer solreg_publisher"
    parts = multipart(upload)
    dist = solution_repo / "dist"
    archive = (dist / "parking-share-1.2.0.tar.gz").read_bytes()
    assert parts["archive"] == ("parking-share-1.2.0.tar.gz", archive)
    assert parts["sha256"][1].decode() == hashlib.sha256(archive).hexdigest()
    provenance = (dist / "parking-share-1.2.0.provenance.json").read_bytes()
    assert parts["provenance"][1] == provenance
    public = load_signing_key().public_key()
    verified = verify_envelope(parts["signature"][1], {keyid: public})
    assert verified.payload_bytes == provenance
    assert (dist / "parking-share-1.2.0.provenance.dsse.json").read_bytes() == parts["signature"][1]


def test_identical_reupload(solreg, stub, solution_repo):
    stub.on("POST", UPLOAD, (200, {"created": False, "release": release(stub, state="published",
                                                                         queue_position=None)}))
    first = solreg("publish", str(solution_repo), env=env_for(stub))
    second = solreg("publish", str(solution_repo), env=env_for(stub))  # dist/ from run one is no problem
    for result in (first, second):
        assert result.returncode == 0, result.stderr
        assert "already published, identical: parking-share@1.2.0" in result.stdout
    assert len(stub.hits("POST", UPLOAD)) == 2
    assert "warning: no signing key" in first.stderr
    assert b'name="signature"' not in stub.hits("POST", UPLOAD)[0].body


def test_conflict_prints_the_server_detail(solreg, stub, solution_repo):
    stub.on("POST", UPLOAD, (409, {"errors": [{"code": "version-exists", "field": "version",
                                               "detail": "parking-share 1.2.0 exists with other content"}]}))
    result = solreg("publish", str(solution_repo), env=env_for(stub))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-2] == "error: registry refused (409): version: parking-share 1.2.0 exists with other content"
    assert lines[-1].startswith("hint: a release's bytes never change")
    assert len(stub.hits("POST", UPLOAD)) == 1  # a 4xx is not retried


def test_dry_run_stops_before_upload(solreg, stub, solution_repo):
    result = solreg("publish", "--dry-run", str(solution_repo))
    assert result.returncode == 0, result.stderr
    assert "dry run: stopping before upload" in result.stdout
    assert (solution_repo / "dist" / "parking-share-1.2.0.tar.gz").is_file()
    assert stub.requests == []


def test_refuses_to_publish_with_check_errors(solreg, stub, solution_repo):
    (solution_repo / "README.md").write_text("work in progress")
    result = solreg("publish", str(solution_repo), env={**env_for(stub), "COLUMNS": "200"})
    assert result.returncode == 1
    assert "git-dirty" in result.stderr
    assert "error: 1 error(s) found; nothing was published" in result.stderr
    assert stub.requests == []
    assert not (solution_repo / "dist").exists()


def test_refuses_untagged_head(solreg, stub, solution_repo, kit):
    repo = git.Repo(solution_repo)
    (solution_repo / "README.md").write_text("after the tag")
    kit.commit_all(repo, "more work")
    result = solreg("publish", str(solution_repo), env={**env_for(stub), "COLUMNS": "200"})
    assert result.returncode == 1
    assert "git-untagged" in result.stderr
    assert stub.requests == []


def test_key_id_matches_registered_key(config_home):
    _, keyid = generate_signing_key()
    assert key_id(load_signing_key().public_key()) == keyid
