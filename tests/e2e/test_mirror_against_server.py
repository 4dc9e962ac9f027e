"""An offline mirror end to end: a real origin publishes, its bundle is carried to a second registry
process, verified and served there, `solreg verify` against the mirror checks the ORIGIN's log key,
and a bundle with one byte changed is refused with nothing written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import requests

from tests.e2e.conftest import Registry
from tests.e2e.test_cli_against_server import (  # noqa: F401
    _stored_token,
    approve_uploaded,
    logged_in,
    review,
    tagged_sample,
)


def test_a_bundle_carried_to_a_mirror_verifies_there_and_one_changed_byte_is_refused(logged_in, solreg, tmp_path):
    origin = logged_in
    repo = tagged_sample(tmp_path / "parking-share")
    assert solreg("keygen").returncode == 0
    assert solreg("keys", "register", "--name", "laptop").returncode == 0
    assert solreg("publish", str(repo)).returncode == 0
    solution = requests.get(f"{origin.url}/api/v1/solutions/parking-share",
                            headers={"Authorization": "Bearer " + _stored_token(tmp_path)}, timeout=10).json()
    assert review(origin, solution["solution"]["releases"][0]["id"], "approve", "좋습니다").status_code == 200
    bundle = tmp_path / "bundle.tar"
    assert "exported 1 releases" in origin.flask("mirror", "export", str(bundle))
    origin_key = origin.flask("log", "key").strip()

    # A bundle with one byte of the archive changed: refused before anything is written.
    with tarfile.open(bundle) as tar:
        blob = next(m for m in tar.getmembers() if m.name.startswith("blobs/"))
    data = bytearray(bundle.read_bytes())
    data[blob.offset_data + blob.size // 2] ^= 0x01
    tampered = tmp_path / "tampered.tar"
    tampered.write_bytes(bytes(data))

    mirror = Registry(tmp_path / "mirror", f"sqlite:///{tmp_path / 'mirror.db'}")
    mirror.env["REGISTRY_LOG_ORIGIN"] = "mirror.local/log"
    mirror.flask("db", "upgrade")
    refused = subprocess.run([sys.executable, "-m", "flask", "--app", "registry", "mirror", "import", str(tampered)],
                             env=mirror.env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and refused.stderr.startswith("Error: bundle refused: "), refused.stderr
    with sqlite3.connect(tmp_path / "mirror.db") as db:
        assert db.execute("SELECT count(*) FROM releases").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM mirror_leaves").fetchone() == (0,)
    assert not any(p.is_file() for p in (tmp_path / "mirror" / "blobs").rglob("*") if "spool" not in p.parts)

    assert "imported 1 releases" in mirror.flask("mirror", "import", str(bundle), "--origin-key", origin_key)
    origin.stop()  # the mirror stands alone from here on
    mirror.start()
    try:
        served = requests.get(f"{mirror.url}/api/v1/solutions/parking-share/releases/1.2.0", timeout=10).json()
        assert served["release"]["mirrored_from"] == "solreg.local/log"
        downloads = tmp_path / "downloads"
        got = against(mirror, "download", "parking-share@1.2.0", "--out", str(downloads))
        assert got.returncode == 0, got.stderr
        verified = against(mirror, "verify", str(downloads / "parking-share-1.2.0.tar.gz"), "--origin-key", origin_key)
        assert verified.returncode == 0, verified.stderr
        assert "of solreg.local/log (mirrored), signed by solreg.local/log+" in verified.stdout, verified.stdout
        assert "signed by:    vendor.mirror-" in verified.stdout, verified.stdout

        # The origin's key pinned for this origin: a mirror serving a head signed by another key is caught.
        wrong = subprocess.run([sys.executable, "-c", "from registry.spec.note import Signer; "
                                "print(Signer.generate('solreg.local/log').verifier.encode())"],
                               capture_output=True, text=True, timeout=60).stdout.strip()
        refused = against(mirror, "verify", str(downloads / "parking-share-1.2.0.tar.gz"), "--origin-key", wrong)
        assert refused.returncode == 1 and "is not the one pinned for solreg.local/log" in refused.stderr
    finally:
        mirror.stop()


def against(server: Registry, *args: str) -> subprocess.CompletedProcess:
    """The real `solreg` of a computer on the separated network: anonymous, its own config, pointed at `server`."""
    home = server.root.parent / "separated-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLREG_")}
    env.update(XDG_CONFIG_HOME=str(home / ".config"), HOME=str(home), SOLREG_REGISTRY_URL=server.url)
    return subprocess.run([str(Path(sys.executable).with_name("solreg")), *args], env=env, capture_output=True,
                          text=True, timeout=120, cwd=server.root.parent)


def test_a_mirror_pulls_from_a_running_origin_over_http(logged_in, solreg, tmp_path):
    origin = logged_in
    assert solreg("publish", str(tagged_sample(tmp_path / "parking-share"))).returncode == 0
    approve_uploaded(origin, tmp_path)

    mirror = Registry(tmp_path / "mirror", f"sqlite:///{tmp_path / 'mirror.db'}")
    mirror.env["REGISTRY_LOG_ORIGIN"] = "mirror.local/log"
    mirror.flask("db", "upgrade")
    pulled = mirror.flask("mirror", "pull", origin.url, "--origin-key", origin.flask("log", "key").strip())
    assert "pulled 1 releases and 1 leaves of solreg.local/log" in pulled, pulled
    assert "pulled 0 releases and 0 leaves" in mirror.flask("mirror", "pull", origin.url)
    with sqlite3.connect(tmp_path / "mirror.db") as db:
        assert db.execute("SELECT version, state FROM releases").fetchall() == [("1.2.0", "published")]
