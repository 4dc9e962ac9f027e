"""``solreg download`` and ``solreg verify`` against the stub registry (CLI in a subprocess)."""

import json
import shutil

import git
import pytest

from publisher_cli.commands.build import build_release
from publisher_cli.commands.publish import sign_provenance
from registry.spec import note
from registry.spec.provenance import (
    build_statement,
    generate_key,
    key_id,
    public_key_to_pem,
    sign_envelope,
    statement_bytes,
)
from registry.spec.tlog import TreeHashes, leaf_hash

BASE = "/api/v1/solutions/parking-share/releases/1.2.0"
KEYS = "/api/v1/orgs/cheonan/keys"


@pytest.fixture
def built(solution_repo, tmp_path):
    """A release built and signed by 'kim', laid out as `solreg download` leaves it."""
    result = build_release(solution_repo, tmp_path / "dist")
    key = generate_key()
    signature = sign_provenance(result.provenance_path, key)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for path in (result.archive.path, result.provenance_path, signature):
        shutil.copy(path, downloads / path.name)
    commit = git.Repo(solution_repo).tags["v1.2.0"].commit.hexsha
    return {"result": result, "key": key, "dir": downloads, "commit": commit,
            "archive": downloads / result.archive.path.name}


LOG_SIGNER = note.Signer.generate("registry.example.org/log")


def serve_log(stub, sha256: str, *, signer=LOG_SIGNER, version: str = "1.2.0") -> list[str]:
    """A log of two leaves, the second publishing parking-share@VERSION with `sha256`; returns the leaves."""
    leaves = [json.dumps({"kind": "key.registered", "keyid": "ab" * 32, "v": 1}, sort_keys=True),
              json.dumps({"kind": "release.published", "solution": "parking-share", "version": version,
                          "sha256": sha256, "v": 1}, sort_keys=True, separators=(",", ":"))]
    tree = TreeHashes(leaf_hash(leaf.encode()) for leaf in leaves)
    checkpoint = note.Checkpoint("registry.example.org/log", 2, tree.root()).text()
    stub.on("GET", "/api/v1/log/key", (200, LOG_SIGNER.verifier.encode().encode()))
    stub.on("GET", "/api/v1/log/checkpoint", (200, note.sign(checkpoint, signer).encode().encode()))
    stub.on("GET", "/api/v1/log/leaves", (200, {"start": 1, "size": 2, "leaves": [
        {"index": 1, "kind": "release.published", "data": leaves[1], "hash": tree.leaf(1).hex()}]}))
    stub.on("GET", "/api/v1/log/proof/inclusion", (200, {"index": 1, "size": 2, "leaf_hash": tree.leaf(1).hex(),
                                                         "proof": [h.hex() for h in tree.inclusion_proof(1, 2)]}))
    return leaves


def serve(stub, built, *, keys=None, **extra):
    key = built["key"]
    kid = key_id(key.public_key())
    record = {"name": "parking-share", "version": "1.2.0", "state": "published",
              "sha256": built["result"].archive.sha256, "size": built["result"].archive.size,
              "created_at": "2024-03-02T00:00:00Z", "url": f"{stub.url}/s/parking-share/1.2.0",
              "archive_url": f"{BASE}/archive", "provenance_url": f"{BASE}/provenance",
              "signature_url": f"{BASE}/signature", "sbom_url": f"{BASE}/sbom",
              "signer": {"username": "kim", "keyid": kid},
              "provenance": {"repository": "https://git.example.org/cheonan/parking-share", "tag": "v1.2.0",
                             "commit": built["commit"]},
              "queue_position": None, "yank_reason": None, "org": "cheonan",
              "reviews": [{"decision": "approved", "comment": "looks good", "reviewer": "park",
                           "created_at": "2024-03-03T00:00:00Z"}],
              "transparency": {"leaf_index": 1}}
    record.update(extra)
    serve_log(stub, built["result"].archive.sha256)
    stub.on("GET", BASE, (200, {"release": record}))
    stub.on("GET", KEYS, (200, {"keys": keys if keys is not None else [
        {"keyid": kid, "public_key": public_key_to_pem(key.public_key()), "username": "kim", "revoked": False}]}))
    result = built["result"]
    stub.on("GET", f"{BASE}/archive", (200, result.archive.path.read_bytes(),
                                       {"ETag": f'"{result.archive.sha256}"'}))
    stub.on("GET", f"{BASE}/provenance", (200, result.provenance_path.read_bytes()))
    stub.on("GET", f"{BASE}/signature", (200, (built["dir"] / "parking-share-1.2.0.provenance.dsse.json").read_bytes()))
    return record


def test_verify_a_good_release(solreg, stub, built):
    serve(stub, built)
    result = solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"signed by:    kim (key {key_id(built['key'].public_key())})" in out
    assert "repository:   https://git.example.org/cheonan/parking-share" in out
    assert "tag:          v1.2.0" in out
    assert f"commit:       {built['commit']}" in out
    assert "review state: published" in out
    assert "approved by:  park" in out
    assert "leaf 1 of 2, signed by registry.example.org/log+" in out
    # The siblings were used: nothing but the record, the keys and the log was fetched.
    assert {r.path.split("?")[0] for r in stub.requests} == {BASE, KEYS, "/api/v1/log/key", "/api/v1/log/checkpoint",
                                                              "/api/v1/log/leaves", "/api/v1/log/proof/inclusion"}


def _fails_in_one_line(result, text: str) -> None:
    assert result.returncode == 1, result.stdout
    assert text in result.stderr, result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error")]) == 1, result.stderr


def test_the_log_key_is_pinned_on_first_use_and_a_head_signed_by_another_key_fails(solreg, stub, built, config_home):
    serve(stub, built)
    env = {"SOLREG_REGISTRY_URL": stub.url}
    first = solreg("verify", str(built["archive"]), env=env)
    assert first.returncode == 0 and "pinned the registry's log key on first use" in first.stderr
    assert LOG_SIGNER.verifier.encode() in (config_home / "solreg" / "config.toml").read_text()
    assert (config_home / "solreg" / "checkpoints" / "default").read_text().startswith("registry.example.org/log\n2\n")
    # The registry now signs with another key (and serves it): the pinned key refuses the head.
    impostor = note.Signer.generate("registry.example.org/log")
    serve_log(stub, built["result"].archive.sha256, signer=impostor)
    stub.on("GET", "/api/v1/log/key", (200, impostor.verifier.encode().encode()))
    _fails_in_one_line(solreg("verify", str(built["archive"]), env=env),
                       "does not verify with the pinned key")


def test_a_leaf_for_other_bytes_fails(solreg, stub, built):
    serve(stub, built)
    serve_log(stub, "0" * 64)
    _fails_in_one_line(solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url}),
                       "leaf 1 of the log does not describe this archive (sha256 differ)")


def test_a_bad_inclusion_proof_fails(solreg, stub, built):
    serve(stub, built)
    stub.on("GET", "/api/v1/log/proof/inclusion", (200, {"index": 1, "size": 2, "proof": ["00" * 32]}))
    _fails_in_one_line(solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url}),
                       "is not in the registry's signed log")


def test_a_published_release_missing_from_the_log_fails_unless_told(solreg, stub, built):
    serve(stub, built, transparency=None)
    env = {"SOLREG_REGISTRY_URL": stub.url}
    _fails_in_one_line(solreg("verify", str(built["archive"]), env=env), "transparency log does not record")
    assert solreg("verify", "--no-log", str(built["archive"]), env=env).returncode == 0


def test_verify_fetches_missing_provenance_and_signature(solreg, stub, built):
    serve(stub, built)
    for sibling in built["dir"].glob("*.json"):
        sibling.unlink()
    result = solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 0, result.stderr
    assert stub.hits("GET", f"{BASE}/signature") and stub.hits("GET", f"{BASE}/provenance")


def test_tampered_archive_fails(solreg, stub, built):
    serve(stub, built)
    with built["archive"].open("ab") as handle:
        handle.write(b"\0")
    result = solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: parking-share-1.2.0.tar.gz has sha256 ")
    assert "the file was altered" in first
    assert "Traceback" not in result.stderr


def test_signature_by_an_unregistered_key_fails(solreg, stub, built):
    serve(stub, built)
    sign_provenance(built["dir"] / "parking-share-1.2.0.provenance.json", generate_key())  # impostor
    result = solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 1
    assert "signature does not verify against cheonan's registered keys" in result.stderr
    assert "unknown key" in result.stderr


def test_forged_signature_under_the_real_key_id_fails(solreg, stub, built):
    serve(stub, built)
    envelope_path = built["dir"] / "parking-share-1.2.0.provenance.dsse.json"
    forged = sign_envelope((built["dir"] / "parking-share-1.2.0.provenance.json").read_bytes(), generate_key())
    forged["signatures"][0]["keyid"] = key_id(built["key"].public_key())
    envelope_path.write_text(json.dumps(forged))
    result = solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 1
    assert "does not match the payload" in result.stderr


def test_revoked_key_is_not_trusted(solreg, stub, built):
    key = built["key"]
    serve(stub, built, keys=[{"keyid": key_id(key.public_key()), "public_key": public_key_to_pem(key.public_key()),
                              "username": "kim", "revoked": True}])
    result = solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 1
    assert "unknown key" in result.stderr


def test_signed_provenance_for_other_bytes_fails(solreg, stub, built):
    serve(stub, built)
    result = built["result"]
    statement = build_statement(
        archive_name="parking-share-1.2.0.tar.gz", archive_sha256="f" * 64,
        repository=result.repository, tag="v1.2.0", commit=built["commit"], builder_id="solreg/0.1.0",
        started_on=result.tag.commit_time)
    (built["dir"] / "parking-share-1.2.0.provenance.json").write_bytes(statement_bytes(statement))
    sign_provenance(built["dir"] / "parking-share-1.2.0.provenance.json", built["key"])
    outcome = solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert outcome.returncode == 1
    assert f"provenance is for sha256 {'f' * 64}" in outcome.stderr


def test_provenance_file_differing_from_signed_payload_fails(solreg, stub, built):
    serve(stub, built)
    path = built["dir"] / "parking-share-1.2.0.provenance.json"
    path.write_bytes(path.read_bytes().replace(b"v1.2.0", b"v9.9.9"))
    result = solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 1
    assert "differs from the signed provenance" in result.stderr


def test_unsigned_release_needs_explicit_consent(solreg, stub, built):
    serve(stub, built, signature_url=None, signer=None)
    (built["dir"] / "parking-share-1.2.0.provenance.dsse.json").unlink()
    refused = solreg("verify", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert refused.returncode == 1
    assert "has no provenance signature" in refused.stderr
    accepted = solreg("verify", "--allow-unsigned", str(built["archive"]), env={"SOLREG_REGISTRY_URL": stub.url})
    assert accepted.returncode == 0, accepted.stderr
    assert "nobody (unsigned release)" in accepted.stdout


def test_download_writes_archive_and_siblings(solreg, stub, built, tmp_path):
    serve(stub, built)
    out = tmp_path / "fresh"
    result = solreg("download", "parking-share@1.2.0", "--out", str(out), env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 0, result.stderr
    assert (out / "parking-share-1.2.0.tar.gz").read_bytes() == built["result"].archive.path.read_bytes()
    assert (out / "parking-share-1.2.0.provenance.json").is_file()
    assert (out / "parking-share-1.2.0.provenance.dsse.json").is_file()
    verified = solreg("verify", str(out / "parking-share-1.2.0.tar.gz"), env={"SOLREG_REGISTRY_URL": stub.url})
    assert verified.returncode == 0, verified.stderr


def test_download_with_wrong_bytes_is_discarded(solreg, stub, built, tmp_path):
    serve(stub, built)
    stub.on("GET", f"{BASE}/archive", (200, b"not the archive"))
    out = tmp_path / "fresh"
    result = solreg("download", "parking-share@1.2.0", "--out", str(out), env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 1
    assert "the registry recorded" in result.stderr
    assert not (out / "parking-share-1.2.0.tar.gz").exists()


# --- a municipality without an account: --registry URL, no login, no token ---------------------

def test_download_and_verify_with_a_registry_url_and_no_login(solreg, stub, built, tmp_path, config_home):
    serve(stub, built)
    out = tmp_path / "천안시"
    fetched = solreg("--registry", stub.url, "download", "parking-share@1.2.0", "--out", str(out))
    assert fetched.returncode == 0, fetched.stderr
    verified = solreg("--registry", stub.url, "verify", str(out / "parking-share-1.2.0.tar.gz"))
    assert verified.returncode == 0, verified.stderr
    assert "approved by:  park" in verified.stdout and "leaf 1 of 2" in verified.stdout
    assert stub.requests and all("Authorization" not in r.headers for r in stub.requests)
    # The log key is pinned for that URL (trust on first use), under its host, with no token.
    host = stub.url.removeprefix("http://")
    config = (config_home / "solreg" / "config.toml").read_text()
    assert f'[registries."{host}"]' in config and f'url = "{stub.url}"' in config and "token" not in config
    # The second time the head seen before (same size) is checked against the pinned key and the new head.
    stub.on("GET", "/api/v1/log/proof/consistency", (200, {"proof": []}))
    again = solreg("--registry", stub.url, "verify", str(out / "parking-share-1.2.0.tar.gz"))
    assert again.returncode == 0, again.stderr
    assert "pinned" not in again.stderr


def test_a_token_saved_for_another_registry_is_not_sent_to_a_registry_url(solreg, stub, built, config_home):
    from publisher_cli.config import store_login

    serve(stub, built)
    store_login("staging", "https://staging.example.org", "solreg_staging")
    result = solreg("--registry", stub.url, "verify", str(built["archive"]),
                    env={"SOLREG_TOKEN": "solreg_for_the_env_registry", "SOLREG_REGISTRY_URL": "https://other.example.org"})
    assert result.returncode == 0, result.stderr
    assert all("Authorization" not in r.headers for r in stub.requests)


def test_a_release_in_review_answers_an_anonymous_download_with_one_line_and_a_login_hint(solreg, stub, tmp_path):
    stub.on("GET", BASE, (404, {"errors": [{"code": "not-found", "field": "version",
                                            "detail": "parking-share has no version '1.2.0'"}]}))
    result = solreg("--registry", stub.url, "download", "parking-share@1.2.0", "--out", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: registry refused (404): version: parking-share has no version '1.2.0'",
        "hint: check the solution name and version (`solreg info NAME`); a release still in review is seen only "
        "by its publisher: log in with `solreg login` to see yours"]
    assert "Authorization" not in stub.requests[0].headers


# --- --require-witness: the registry's head must carry this witness's cosignature -------------------

WITNESS = note.Signer.generate("witness.gg.go.kr/w1", note.ALG_COSIGNATURE_V1)


def _cosign_served_head(stub, signer=WITNESS) -> None:
    served = stub.routes[("GET", "/api/v1/log/checkpoint")][0].body.decode()
    line = note.cosign(note.parse(served).text, signer, 1_780_000_000)
    stub.on("GET", "/api/v1/log/checkpoint", (200, (served + line.line()).encode()))


def test_verify_requires_the_witness_cosignature_it_is_asked_for(solreg, stub, built):
    serve(stub, built)
    stub.on("GET", "/api/v1/log/proof/consistency", (200, {"old": 2, "new": 2, "proof": []}))  # runs after the first
    env = {"SOLREG_REGISTRY_URL": stub.url}
    key = WITNESS.verifier.encode()
    _fails_in_one_line(solreg("verify", str(built["archive"]), "--require-witness", key, env=env),
                       "is not cosigned by witness.gg.go.kr/w1")
    _cosign_served_head(stub, note.Signer.generate("witness.gg.go.kr/w1", note.ALG_COSIGNATURE_V1))
    _fails_in_one_line(solreg("verify", str(built["archive"]), "--require-witness", key, env=env),
                       "is not cosigned by witness.gg.go.kr/w1")  # a line of the same name, another key
    serve(stub, built)
    _cosign_served_head(stub)
    result = solreg("verify", str(built["archive"]), "--require-witness", key, env=env)
    assert result.returncode == 0, result.stderr
    assert "witnessed by: witness.gg.go.kr/w1 at 2026-05-28 20:26:40 UTC" in result.stdout, result.stdout


def test_a_log_key_given_as_a_witness_is_refused_before_anything_is_fetched(solreg, stub, built):
    serve(stub, built)
    result = solreg("verify", str(built["archive"]), "--require-witness", LOG_SIGNER.verifier.encode(),
                    env={"SOLREG_REGISTRY_URL": stub.url})
    _fails_in_one_line(result, "is a log key, not a witness key")
    assert stub.requests == []
    skipped = solreg("verify", str(built["archive"]), "--no-log", "--require-witness", WITNESS.verifier.encode(),
                     env={"SOLREG_REGISTRY_URL": stub.url})
    assert skipped.returncode == 2 and "leave out --no-log" in skipped.stderr
