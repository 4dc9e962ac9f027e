"""The vendor's and the municipality's whole path with the real `solreg` against a real server process."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import git
import pytest
import requests

SAMPLE = Path(__file__).resolve().parents[2] / "sample_solutions" / "parking-share"
WHEN = "2025-06-02T10:00:00+09:00"


def tagged_sample(target: Path, version: str | None = None) -> Path:
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.sqlite3"))
    repo = git.Repo.init(target, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Vendor")
        config.set_value("user", "email", "vendor@example.org")
    (target / ".gitignore").write_text("dist/\n")
    repo.git.add("--all")
    repo.git.commit("-m", "release", env={**os.environ, "GIT_AUTHOR_DATE": WHEN, "GIT_COMMITTER_DATE": WHEN})
    repo.create_tag("v1.2.0")
    return target


def review(server, release_id: int, decision: str, comment: str = "") -> requests.Response:
    token = server.flask("tokens", "create", "reviewer", "--org", "agency", "--scope", "review").strip().splitlines()[-1]
    return requests.post(f"{server.url}/api/v1/reviews/{release_id}", json={"decision": decision, "comment": comment},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)


def approve_uploaded(server, tmp_path: Path) -> None:
    """A reviewer of an agency approves the release of parking-share the vendor uploaded, through the API."""
    solution = requests.get(f"{server.url}/api/v1/solutions/parking-share",
                            headers={"Authorization": "Bearer " + _stored_token(tmp_path)}, timeout=10).json()
    assert review(server, solution["solution"]["releases"][0]["id"], "approve", "좋습니다").status_code == 200


@pytest.fixture
def logged_in(registry_server, solreg):
    token = registry_server.flask("tokens", "create", "vendor", "--org", "hanbit", "--scope", "publish",
                                  "--scope", "yank", "--scope", "read").strip().splitlines()[-1]
    result = solreg("login", "--url", registry_server.url, input=token + "\n")
    assert result.returncode == 0, result.stderr
    return registry_server


def test_publish_download_verify(logged_in, solreg, tmp_path):
    server = logged_in
    repo = tagged_sample(tmp_path / "parking-share")
    assert "vendor" in solreg("whoami").stdout

    assert solreg("keygen").returncode == 0
    registered = solreg("keys", "register", "--name", "laptop")
    assert registered.returncode == 0, registered.stderr

    check = solreg("check", str(repo), "--format", "json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["ok"] is True

    published = solreg("publish", str(repo))
    assert published.returncode == 0, published.stderr
    assert "pending" in published.stdout.lower()

    again = solreg("publish", str(repo))
    assert again.returncode == 0 and "identical" in (again.stdout + again.stderr).lower()

    status = solreg("status", "parking-share@1.2.0")
    assert status.returncode == 0 and "pending" in status.stdout.lower()

    # The reviewer (of another org) approves through the API.
    release = requests.get(f"{server.url}/api/v1/solutions/parking-share",
                           headers={"Authorization": "Bearer " + _stored_token(tmp_path)}, timeout=10).json()
    release_id = release["solution"]["releases"][0]["id"]
    approved = review(server, release_id, "approve", "좋습니다")
    assert approved.status_code == 200, approved.text

    downloads = tmp_path / "downloads"
    fetched = solreg("download", "parking-share@1.2.0", "--out", str(downloads), cwd=tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    archive = downloads / "parking-share-1.2.0.tar.gz"
    built = repo / "dist" / "parking-share-1.2.0.tar.gz"
    assert archive.read_bytes() == built.read_bytes()

    verified = solreg("verify", str(archive))
    assert verified.returncode == 0, verified.stderr
    assert "vendor" in verified.stdout and "reviewer" in verified.stdout

    tampered = tmp_path / "tampered" / archive.name
    tampered.parent.mkdir()
    shutil.copy(archive, tampered)
    for suffix in (".provenance.json", ".provenance.dsse.json"):
        sibling = downloads / archive.name.replace(".tar.gz", suffix)
        if sibling.exists():
            shutil.copy(sibling, tampered.parent / sibling.name)
    with tampered.open("r+b") as f:
        f.seek(100)
        f.write(b"\xff")
    refused = solreg("verify", str(tampered))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("error:")


def test_different_bytes_for_a_published_version_fail(logged_in, solreg, tmp_path):
    repo = tagged_sample(tmp_path / "parking-share")
    assert solreg("publish", str(repo)).returncode == 0
    # Same version, different content: move the tag to a new commit.
    (repo / "README.md").write_text("# changed\n", encoding="utf-8")
    g = git.Repo(repo)
    g.git.add("--all")
    g.git.commit("-m", "change", env={**os.environ, "GIT_AUTHOR_DATE": WHEN, "GIT_COMMITTER_DATE": WHEN})
    g.git.tag("-f", "v1.2.0")
    result = solreg("publish", str(repo))
    assert result.returncode == 1
    assert "immutable" in result.stderr or "already exists" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_city_without_an_account_downloads_and_verifies_a_published_release(logged_in, solreg, tmp_path):
    """천안시 has no account and never ran `solreg login`: `--registry URL` is all it needs."""
    from tests.e2e.conftest import solreg_at

    server = logged_in
    repo = tagged_sample(tmp_path / "parking-share")
    assert solreg("keygen").returncode == 0 and solreg("keys", "register", "--name", "laptop").returncode == 0
    assert solreg("publish", str(repo)).returncode == 0
    city = solreg_at(tmp_path / "cheonan")
    downloads = tmp_path / "cheonan-downloads"

    # Still in review: the city sees the registry's 404, in one line, and the hint to log in.
    pending = city("--registry", server.url, "download", "parking-share@1.2.0", "--out", str(downloads))
    assert pending.returncode == 1 and "Traceback" not in pending.stderr
    error, hint = pending.stderr.splitlines()
    assert error.startswith("error: registry refused (404)") and "solreg login" in hint

    release = requests.get(f"{server.url}/api/v1/solutions/parking-share",
                           headers={"Authorization": "Bearer " + _stored_token(tmp_path)}, timeout=10).json()
    assert review(server, release["solution"]["releases"][0]["id"], "approve", "재사용 가능합니다").status_code == 200

    fetched = city("--registry", server.url, "download", "parking-share@1.2.0", "--out", str(downloads))
    assert fetched.returncode == 0, fetched.stderr
    archive = downloads / "parking-share-1.2.0.tar.gz"
    assert archive.read_bytes() == (repo / "dist" / "parking-share-1.2.0.tar.gz").read_bytes()
    verified = city("--registry", server.url, "verify", str(archive))
    assert verified.returncode == 0, verified.stderr
    assert "signed by:" in verified.stdout and "vendor" in verified.stdout and "reviewer" in verified.stdout
    assert "consistent with the last head seen" in verified.stdout
    config = (tmp_path / "cheonan" / ".config" / "solreg" / "config.toml").read_text()
    assert "log_key" in config and "token" not in config  # the log key pinned on first use; no token anywhere


def _stored_token(tmp_path: Path) -> str:
    import tomllib

    config = tomllib.loads((tmp_path / "home" / ".config" / "solreg" / "config.toml").read_text())
    return next(iter(config["registries"].values()))["token"]
