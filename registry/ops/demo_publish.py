"""Publish the sample solutions for the demo, through the real path a vendor takes.

Each sample is copied into a scratch git repository, committed and tagged, built with the
CLI's reproducible builder, its provenance signed with the vendor's demo key, and uploaded
with an API token through the HTTP upload endpoint. Most releases are then approved by the
demo reviewer; some stay pending so the review queue has work in it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import select

from registry.accounts import service as accounts
from registry.db import db
from registry.releases.models import Release
from registry.releases.service import find_solution, get_release

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "sample_solutions"
COMMIT_DATE = "2025-06-02T10:00:00+09:00"


@dataclass(frozen=True)
class DemoRelease:
    sample: str
    vendor: str
    version: str | None = None  # None: the sample's own version; otherwise an earlier one derived from it
    approve: bool = True
    older_components: tuple[tuple[str, str], ...] = ()  # (name, version): dependencies pinned older than the sample's


# An earlier parking-share is approved and the sample's own version waits, so the queue shows a real diff.
# drt-ageing-town 1.1.0 waits too, with PyYAML pinned back to 5.3.1: the demo's advisories make its
# vulnerability check fail (registry/ops/demo.py), while 1.0.0 is published, the successor of the
# bus-route-optimizer.
PLAN = [
    DemoRelease("parking-share", "vendor", version="1.1.0", older_components=(("requests", "2.31.0"),)),
    DemoRelease("parking-share", "vendor", approve=False),
    DemoRelease("smart-bus-shelter", "vendor"),
    DemoRelease("safe-patrol-route", "vendor"),
    DemoRelease("bus-route-optimizer", "vendor"),
    DemoRelease("epi-movement-analysis", "vendor2"),
    DemoRelease("flood-alert", "vendor2"),
    DemoRelease("drt-ageing-town", "vendor2", version="1.0.0"),
    DemoRelease("drt-ageing-town", "vendor2", approve=False, older_components=(("PyYAML", "5.3.1"),)),
    DemoRelease("air-quality-dashboard", "vendor2"),
]


# municipality user, solution, version, stage, deployed on
ADOPTIONS = [
    ("cheonan", "parking-share", "1.1.0", "production", date(2025, 9, 1)),
    ("cheonan", "flood-alert", "2.1.0", "piloting", date(2025, 11, 3)),
    ("gwangmyeong", "air-quality-dashboard", "3.0.1", "production", date(2025, 7, 15)),
    ("gwangmyeong", "parking-share", "1.1.0", "piloting", date(2025, 10, 20)),
    ("cheonan", "bus-route-optimizer", "0.3.0", "piloting", date(2025, 4, 7)),
]


def record_adoptions(echo=print) -> None:
    """Cities that run sample releases, so reuse counts and adoption alerts have something to show."""
    from registry.catalog.adoption import record_adoption

    for username, name, version, stage, deployed_on in ADOPTIONS:
        user = accounts.get_user(username)
        release = get_release(name, version)
        record_adoption(user, user.memberships[0].org, release, stage, deployed_on)
        echo(f"  {user.memberships[0].org.name} runs {name} {version} ({stage})")


def publish_samples(reviewer_username: str = "reviewer", echo=print) -> int:
    if not SAMPLES_DIR.is_dir():
        echo("sample_solutions/ not found next to the package; skipping demo releases")
        return 0
    published = 0
    with tempfile.TemporaryDirectory(prefix="solreg-demo-") as scratch:
        for item in PLAN:
            if _publish_one(item, Path(scratch), reviewer_username, echo):
                published += 1
    return published


def _sample_manifest(sample: str) -> dict:
    return yaml.safe_load((SAMPLES_DIR / sample / "solution.yaml").read_text(encoding="utf-8"))


def _publish_one(item: DemoRelease, scratch: Path, reviewer_username: str, echo) -> bool:
    manifest = _sample_manifest(item.sample)
    version = item.version or str(manifest["version"])
    existing = find_solution(item.sample)
    if existing and any(r.version == version for r in existing.releases):
        return False
    repo_dir = _tagged_repository(item, version, scratch / f"{item.sample}-{version}")
    from publisher_cli.commands.build import build_release

    built = build_release(repo_dir, scratch / "dist")
    user = accounts.get_user(item.vendor)
    org = user.memberships[0].org
    signature = _sign(built.provenance_path, user)
    issued = accounts.issue_token(user, org, ["publish"], name="demo upload")
    db.session.commit()
    try:
        with built.archive.path.open("rb") as archive:
            response = current_app.test_client().post(
                f"/api/v1/solutions/{item.sample}/releases",
                headers={"Authorization": f"Bearer {issued.raw}"},
                data={"archive": (archive, built.archive.path.name), "sha256": built.archive.sha256,
                      "provenance": (built.provenance_path.open("rb"), built.provenance_path.name),
                      "signature": (signature.open("rb"), signature.name)},
                content_type="multipart/form-data")
    finally:
        accounts.revoke_token(issued.token, user)
        db.session.commit()
    if response.status_code not in (200, 201):
        raise RuntimeError(f"demo upload of {item.sample} {version} failed: {response.get_json()}")
    release = db.session.scalar(select(Release).join(Release.solution).where(
        Release.version == version, Release.solution.has(name=item.sample)))
    if item.approve:
        _approve(release, accounts.get_user(reviewer_username))
    echo(f"  {item.sample} {version}: {release.state}")
    return True


def _tagged_repository(item: DemoRelease, version: str, target: Path) -> Path:
    import git

    sample = item.sample
    shutil.copytree(SAMPLES_DIR / sample, target, ignore=shutil.ignore_patterns(
        "__pycache__", ".pytest_cache", "*.pyc", "dist", "*.sqlite3"))
    if version != str(_sample_manifest(sample)["version"]) or item.older_components:
        _rewrite_version(target, version, item.older_components)
    repo = git.Repo.init(target, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Demo Publisher")
        config.set_value("user", "email", "demo@registry.example")
        config.set_value("commit", "gpgsign", "false")
    repo.git.add("--all")
    env = {**os.environ, "GIT_AUTHOR_DATE": COMMIT_DATE, "GIT_COMMITTER_DATE": COMMIT_DATE}
    repo.git.commit("-m", f"{sample} {version}", env=env)
    repo.create_tag(f"v{version}")
    return target


def _rewrite_version(directory: Path, version: str, older_components: tuple[tuple[str, str], ...]) -> None:
    """Another release for the demo: the same code with the version set in the manifest and the SBOM's
    root, and some dependencies pinned older, so reviewers see a real component diff."""
    manifest_path = directory / "solution.yaml"
    text = manifest_path.read_text(encoding="utf-8")
    original = str(yaml.safe_load(text)["version"])
    manifest_path.write_text(text.replace(f"version: {original}", f"version: {version}", 1), encoding="utf-8")
    sbom_path = directory / "sbom.cdx.json"
    text = sbom_path.read_text(encoding="utf-8")
    sbom = json.loads(text)
    for name, older in older_components:
        current = next(c["version"] for c in sbom["components"] if c["name"] == name)
        # bom-refs, purls and dependency edges all spell name + version (purls in lower case); change them together.
        text = re.sub(rf"({re.escape(name)})(==|@){re.escape(current)}\b", rf"\g<1>\g<2>{older}", text,
                      flags=re.IGNORECASE)
    sbom = json.loads(text)
    for component in sbom["components"]:
        component["version"] = dict(older_components).get(component["name"], component["version"])
    sbom["metadata"]["component"]["version"] = version
    sbom_path.write_text(json.dumps(sbom, indent=2), encoding="utf-8")
    requirements = directory / "requirements.txt"
    if requirements.exists():
        lines = requirements.read_text(encoding="utf-8")
        for name, older in older_components:
            lines = re.sub(rf"^({re.escape(name)})==\S+", rf"\g<1>=={older}", lines, count=1,
                           flags=re.IGNORECASE | re.MULTILINE)
        requirements.write_text(lines, encoding="utf-8")


def _sign(provenance: Path, user) -> Path:
    """Sign with the user's demo key (kept in the instance folder), registering it on first use."""
    from publisher_cli.commands.publish import sign_provenance
    from registry.spec.provenance import (
        generate_key,
        key_id,
        load_private_key_pem,
        private_key_to_pem,
        public_key_to_pem,
    )

    key_file = Path(current_app.instance_path) / "demo-keys" / f"{user.username}.pem"
    if key_file.exists():
        key = load_private_key_pem(key_file.read_text())
    else:
        key = generate_key()
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_file.write_text(private_key_to_pem(key))
        key_file.chmod(0o600)
    known = {k.keyid for k in accounts.org_signing_keys(user.memberships[0].org)}
    if key_id(key.public_key()) not in known:
        accounts.register_signing_key(user, public_key_to_pem(key.public_key()), "demo key")
        db.session.commit()
    return sign_provenance(provenance, key)


def _approve(release: Release, reviewer) -> None:
    from registry.review import checks
    from registry.review import service as review

    # With a real queue the worker may not have run the release's checks yet; the demo runs what is
    # still running here, as the worker would, since a release cannot be approved before they finish.
    waiting = [check.name for check in checks.running(release)]
    if waiting:
        checks.run_job_checks(release.id, waiting)
        db.session.refresh(release)
    review.decide(reviewer, release, "approve", comment="데모 검토: 자동 점검 결과 확인 후 승인")
