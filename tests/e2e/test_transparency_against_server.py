"""The transparency log end to end: a real server publishes, the real `solreg` checks proofs, tampering fails."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import requests

from tests.e2e.test_cli_against_server import _stored_token, logged_in, review, tagged_sample  # noqa: F401


def test_publish_approve_verify_with_proofs_then_a_rewritten_head_fails(logged_in, solreg, tmp_path):
    server = logged_in
    repo = tagged_sample(tmp_path / "parking-share")
    assert solreg("keygen").returncode == 0
    assert solreg("keys", "register", "--name", "laptop").returncode == 0
    assert solreg("publish", str(repo)).returncode == 0
    solution = requests.get(f"{server.url}/api/v1/solutions/parking-share",
                            headers={"Authorization": "Bearer " + _stored_token(tmp_path)}, timeout=10).json()
    assert review(server, solution["solution"]["releases"][0]["id"], "approve", "좋습니다").status_code == 200

    downloads = tmp_path / "downloads"
    assert solreg("download", "parking-share@1.2.0", "--out", str(downloads), cwd=tmp_path).returncode == 0
    archive = downloads / "parking-share-1.2.0.tar.gz"
    verified = solreg("verify", str(archive))
    assert verified.returncode == 0, verified.stderr
    # leaf 0 registered the vendor's key, leaf 1 published the release
    assert "in the log:   leaf 1 of 2, signed by" in verified.stdout, verified.stdout
    whole = solreg("log", "verify")
    assert whole.returncode == 0 and "2 leaves" in whole.stdout, whole.stderr
    assert "transparency log intact: 2 leaves, 2 checkpoints" in server.flask("log", "verify")

    # Someone with the database rewrites the served head's root hash; the signature no longer covers it.
    with sqlite3.connect(tmp_path / "registry.db") as db:
        (note,) = db.execute("SELECT note FROM log_checkpoints WHERE tree_size = 2").fetchone()
        origin, size, root, rest = note.split("\n", 3)
        forged = "\n".join([origin, size, ("B" if root[0] != "B" else "C") + root[1:], rest])
        db.execute("UPDATE log_checkpoints SET note = ? WHERE tree_size = 2", (forged,))
    refused = solreg("verify", str(archive))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("error:") and "does not verify with the pinned key" in refused.stderr

    checked = subprocess.run([sys.executable, "-m", "flask", "--app", "registry", "log", "verify"], env=server.env,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 1
    assert "checkpoint 2 (database): invalid signature" in checked.stderr, checked.stderr
