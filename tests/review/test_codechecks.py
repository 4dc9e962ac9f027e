"""Code checks on real packages built from the sample solutions, each with one deliberate fault,
caught by the right check at the right line; the clean samples never fail."""

from __future__ import annotations

import io

import pytest
import yaml

from registry.review.codechecks import (CHECKS, KIND_FINDINGS, Budget, CodeInput, identify_license, image_status,
                                        run_code_checks)
from registry.review.files import ReleaseFiles, entries_of
from registry.spec.archive import read_archive
from registry.spec.deploy import DEPLOY_KINDS
from tests.review.samples import SAMPLES, sample_files, sample_package

ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4
AWS_KEY = "AKIA" + "Z7QXPLM2RTWV4N8K"  # built here so no scanner of this repository takes it for a real one
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA " + \
      "PRIVATE KEY-----\n"


def code_input(sample: str = "parking-share", **changes) -> CodeInput:
    contents = read_archive(io.BytesIO(sample_package("9.9.9", sample, **changes)))
    return CodeInput(ReleaseFiles(entries_of(contents), contents.files), yaml.safe_load(contents.files["solution.yaml"]))


def run(name: str, code: CodeInput):
    try:
        return CHECKS[name](code, Budget())
    finally:
        code.close()


def located(result) -> set[tuple[str, int | None, str]]:
    return {(f.path, f.line, f.severity) for f in result.findings}


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir()))
def test_clean_samples_never_fail(sample):
    results = run_code_checks(code_input(sample))
    assert [r.name for r in results] == list(CHECKS)
    assert {r.name: r.status for r in results if r.status == "fail"} == {}
    licenses = results[0]
    assert licenses.extra["identified"]["LICENSE"] is not None  # each sample's text is recognised


def test_licence_file_removed_fails_pointing_at_the_declaration():
    result = run("license-files", code_input(remove=("LICENSE",)))
    assert result.status == "fail"
    line = sample_files()["solution.yaml"].decode().splitlines().index("  license: Apache-2.0") + 1
    assert ("solution.yaml", line, "fail") in located(result)
    assert "Apache-2.0" in result.summary


def test_mit_text_under_an_apache_declaration_fails():
    mit = sample_files("flood-alert")["LICENSE"]
    result = run("license-files", code_input(files={"LICENSE": mit}))
    assert result.status == "fail"
    assert result.extra["identified"] == {"LICENSE": "MIT"}
    assert ("LICENSE", 1, "fail") in located(result)
    assert result.params == {"license": "Apache-2.0", "found": "MIT"}


def test_reuse_licence_file_with_the_right_text_passes_the_text_check():
    apache = sample_files()["LICENSE"]
    result = run("license-files", code_input(remove=("LICENSE",), files={"LICENSES/Apache-2.0.txt": apache}))
    assert result.status == "warn"  # files lack SPDX headers: REUSE warns, never fails
    assert result.extra["identified"] == {"LICENSES/Apache-2.0.txt": "Apache-2.0"}
    assert ("parking_share/__init__.py", 1, "warn") in located(result)


def test_gpl_text_is_not_taken_for_the_agpl_it_mentions():
    gpl = sample_files("bus-route-optimizer")["LICENSE"].decode()
    assert "Affero" in gpl
    assert identify_license(gpl) == "GPL-3.0"
    assert identify_license(sample_files("drt-ageing-town")["LICENSE"].decode()) == "AGPL-3.0"
    assert identify_license("이 소프트웨어는 자유롭게 쓸 수 있습니다.") is None


def test_elf_binary_added_fails_and_dist_tarball_warns():
    result = run("blobs", code_input(files={"bin/helper": ELF, "dist/old.tar.gz": sample_package("0.1.0")}))
    assert result.status == "fail"
    assert {(f.path, f.message, f.severity) for f in result.findings} == {
        ("bin/helper", "ELF executable", "fail"), ("dist/old.tar.gz", "archive inside the archive", "warn")}
    assert result.extra["git"]["tree_compared"] is False  # the provenance carries no file list


def test_minified_bundle_and_compiled_object_warn():
    bundle = ("var a=1;" * 20_000).encode()
    result = run("blobs", code_input(files={"static/app.js": bundle, "parking_share/__pycache__/x.pyc": b"\x00\x01"}))
    assert result.status == "warn"
    assert {(f.path, f.message) for f in result.findings} == {
        ("static/app.js", "minified bundle"), ("parking_share/__pycache__/x.pyc", "compiled object")}


def test_committed_aws_key_and_private_key_fail_at_their_lines_without_the_secret():
    config = f"# 주차장 설정\nregion = ap-northeast-2\naws_access_key_id = {AWS_KEY}\n".encode()
    result = run("secrets", code_input(files={"config/settings.ini": config, "deploy/tls/key.pem": PEM.encode()}))
    assert result.status == "fail"
    assert {(f.path, f.line, f.message) for f in result.findings if f.severity == "fail"} >= {
        ("config/settings.ini", 3, "AWS Access Key"), ("deploy/tls/key.pem", 1, "Private Key")}
    assert AWS_KEY not in repr(result) and "MIIBOg" not in repr(result)


def test_bandit_high_severity_fails_on_the_line():
    source = "import subprocess\n\n\ndef run(cmd):\n    # 명령 실행\n    return subprocess.call(cmd, shell=True)\n"
    result = run("secure-coding", code_input(files={"parking_share/run.py": source.encode()}))
    assert result.status == "fail"
    assert ("parking_share/run.py", 6, "fail") in located(result)
    assert result.params["high"] == 1


def test_latest_image_in_compose_fails_on_its_line():
    compose = sample_files()["deploy/compose.yaml"].decode()
    broken = compose.replace("image: parking-share:1.2.0", "image: nginx:latest")
    assert broken != compose
    result = run("deploy-files", code_input(files={"deploy/compose.yaml": broken.encode()}))
    assert result.status == "fail"
    line = broken.splitlines().index(next(l for l in broken.splitlines() if "nginx:latest" in l)) + 1
    assert ("deploy/compose.yaml", line, "fail") in located(result)


def test_kubernetes_manifest_with_a_wrong_field_fails_on_its_line():
    deployment = sample_files("smart-bus-shelter")["deploy/k8s/deployment.yaml"].decode()
    broken = deployment.replace("  replicas: 1\n", "  replicas: 1\n  replica: 2\n")
    result = run("deploy-files", code_input("smart-bus-shelter", files={"deploy/k8s/deployment.yaml": broken.encode()}))
    assert result.status == "fail"
    line = broken.splitlines().index("  replica: 2") + 1
    failing = [f for f in result.findings if f.severity == "fail"]
    assert [(f.path, f.line) for f in failing] == [("deploy/k8s/deployment.yaml", line)]
    assert "replica" in failing[0].message


def test_every_deployment_kind_has_its_deploy_file_rules():
    assert list(KIND_FINDINGS) == list(DEPLOY_KINDS)


def test_a_kind_without_rules_is_reported_not_skipped():
    code = code_input()
    code.manifest["deploy"]["targets"].append({"kind": "nomad", "path": "deploy/nomad"})
    result = run("deploy-files", code)
    assert ("deploy/nomad", None, "warn") in located(result)
    assert result.status == "warn"


@pytest.mark.parametrize(("reference", "status"), [
    ("nginx", "fail"), ("nginx:latest", "fail"), ("registry.example.org:5000/app", "fail"),
    ("nginx:1.27", "warn"), ("nginx:1.27@sha256:" + "a" * 64, None)])
def test_image_references(reference, status):
    assert (image_status(reference) or (None,))[0] == status


def test_a_check_out_of_budget_warns_as_timed_out():
    code, budget = code_input(files={"config/settings.ini": f"key = {AWS_KEY}\n".encode()}), Budget(max_bytes=10)
    try:
        result = CHECKS["secrets"](code, budget)
    finally:
        code.close()
    assert budget.exhausted and result.findings == []  # stopped before the key: the runner says so
    results = run_code_checks(code_input(), max_bytes=10)
    assert {r.status for r in results} <= {"warn", "fail"}
    assert all(r.extra.get("timed_out") for r in results)


# --- at upload, on the review page ----------------------------------------------------------


@pytest.fixture
def app_config(app_config):
    return {**app_config, "REVIEW_CODE_CHECKS": True}  # off elsewhere in the suite: they take seconds

@pytest.fixture
def reviewer_client(app, reviewer):
    from tests.helpers import login

    client = app.test_client()
    assert login(client, "reviewer").status_code == 302
    return client


def test_upload_records_code_checks_and_the_page_links_the_lines(upload, vendor_token, reviewer_client):
    from registry.db import db
    from registry.releases.models import Release

    config = f"# 주차장 설정\nregion = ap-northeast-2\naws_access_key_id = {AWS_KEY}\n".encode()
    response = upload(vendor_token, sample_package("0.1.0", files={"config/settings.ini": config}))
    assert response.status_code == 201, response.json
    release = db.session.get(Release, response.json["release"]["id"])
    checks = {c.name: c for c in release.checks}
    assert set(CHECKS) <= checks.keys()
    secrets = checks["secrets"]
    assert secrets.status == "fail" and secrets.summary.endswith("(detect-secrets).")
    assert {"path": "config/settings.ini", "line": 3, "message": "AWS Access Key", "severity": "fail"} in \
        secrets.details["findings"]
    assert AWS_KEY not in str(secrets.details)

    page = reviewer_client.get(f"/review/releases/{release.id}").get_data(as_text=True)
    assert f'href="/review/releases/{release.id}/files/config/settings.ini#L3"' in page
    assert "커밋된 비밀 정보로 보이는 항목" in page  # Korean by default
    reviewer_client.get("/lang/en")
    page = reviewer_client.get(f"/review/releases/{release.id}").get_data(as_text=True)
    assert "possible secret(s) committed: AWS Access Key" in page and AWS_KEY not in page


def test_needs_attention_lists_removed_files_and_a_licence_change(upload, vendor_token, reviewer_token, client,
                                                                 reviewer_client):
    from registry.db import db
    from registry.releases.models import Release
    from tests.review.conftest import auth

    def release(version: str, **changes) -> Release:
        response = upload(vendor_token, sample_package(version, **changes))
        assert response.status_code == 201, response.json
        return db.session.get(Release, response.json["release"]["id"])

    base = release("0.1.0")
    assert client.post(f"/api/v1/reviews/{base.id}", json={"decision": "approve"},
                       headers=auth(reviewer_token)).status_code == 200
    manifest = sample_files()["solution.yaml"].decode().replace("license: Apache-2.0", "license: MIT")
    update = release("0.1.1", remove=("parking_share/ngsi.py",), files={
        "solution.yaml": manifest.replace("version: 1.2.0\n", "version: 0.1.1\n", 1).encode(),
        "LICENSE": sample_files("flood-alert")["LICENSE"]})
    reviewer_client.get("/lang/en")
    page = reviewer_client.get(f"/review/releases/{update.id}").get_data(as_text=True)
    attention = page.split('class="notice needs-attention"', 1)[1].split("</section>", 1)[0]
    assert "File removed: <code>parking_share/ngsi.py</code>" in attention
    assert "Licence changed: <code>Apache-2.0 → MIT</code>" in attention
    assert "New dependency" not in attention
    first = reviewer_client.get(f"/review/releases/{base.id}").get_data(as_text=True)
    assert "needs-attention" not in first
