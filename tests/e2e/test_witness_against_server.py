"""A witness end to end: a province's computer runs the real `solreg witness` against a real registry process,
the registry keeps and serves its cosignature, and a municipality's `solreg verify --require-witness` demands
it; a stranger's cosignature is refused, and a head the witness has not cosigned yet does not pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from registry.spec.provenance import generate_key, public_key_to_pem
from tests.e2e.test_cli_against_server import _stored_token, approve_uploaded, logged_in, tagged_sample  # noqa: F401


def computer(root: Path):
    """The real `solreg` of another computer: a config directory of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLREG_")}
    env.update(XDG_CONFIG_HOME=str(root / ".config"), HOME=str(root))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(Path(sys.executable).with_name("solreg")), *args], env=env, capture_output=True,
                              text=True, timeout=120)

    return run


def test_a_province_cosigns_the_head_and_a_municipality_requires_it(logged_in, solreg, tmp_path):
    server = logged_in
    repo = tagged_sample(tmp_path / "parking-share")
    assert solreg("keygen").returncode == 0
    assert solreg("keys", "register", "--name", "laptop").returncode == 0
    assert solreg("publish", str(repo)).returncode == 0
    approve_uploaded(server, tmp_path)
    log_key = server.flask("log", "key").strip()

    province = computer(tmp_path / "province")
    made = province("witness", "init", "witness.gg.go.kr/registry")
    assert made.returncode == 0, made.stderr
    witness_key = province("witness", "key").stdout.strip()
    assert "witness 경기도 added" in server.flask("log", "witness", "add", "경기도", witness_key)

    stranger = computer(tmp_path / "stranger")
    assert stranger("witness", "init", "witness.example/w").returncode == 0
    refused = stranger("witness", "cosign", server.url, "--log-key", log_key)
    assert refused.returncode == 1 and "registry refused (403)" in refused.stderr, refused.stderr

    cosigned = province("witness", "cosign", server.url, "--log-key", log_key)
    assert cosigned.returncode == 0, cosigned.stderr
    assert "cosigned solreg.local/log at 2 leaves" in cosigned.stdout, cosigned.stdout
    page = requests.get(f"{server.url}/transparency", headers={"Accept-Language": "ko"}, timeout=10).text
    assert "경기도" in page and "최신 헤드 (항목 2개)" in page

    downloads = tmp_path / "downloads"
    assert solreg("download", "parking-share@1.2.0", "--out", str(downloads), cwd=tmp_path).returncode == 0
    archive = str(downloads / "parking-share-1.2.0.tar.gz")
    verified = solreg("verify", archive, "--require-witness", witness_key)
    assert verified.returncode == 0, verified.stderr
    assert "witnessed by: witness.gg.go.kr/registry at " in verified.stdout, verified.stdout

    # The log grows (a second key): its new head is not cosigned until the province's next round.
    register = requests.post(f"{server.url}/api/v1/keys", timeout=10,
                             headers={"Authorization": "Bearer " + _stored_token(tmp_path)},
                             json={"name": "ci", "public_key": public_key_to_pem(generate_key().public_key())})
    assert register.status_code == 201, register.text
    waiting = solreg("verify", archive, "--require-witness", witness_key)
    assert waiting.returncode == 1 and "is not cosigned by witness.gg.go.kr/registry" in waiting.stderr
    again = province("witness", "cosign", server.url)
    assert again.returncode == 0 and "at 3 leaves" in again.stdout, again.stderr
    assert solreg("verify", archive, "--require-witness", witness_key).returncode == 0

