"""Code checks (registry/spec/codechecks.py) on real packages built from the sample solutions, each
with one deliberate fault, caught by the right check at the right line; the clean samples never fail;
a check that raises or runs past its budget says so instead of raising."""

from __future__ import annotations

import io

import pytest
import yaml

from registry.spec.archive import read_archive
from registry.spec.codechecks import (
    CHECKS,
    KIND_FINDINGS,
    Budget,
    CodeInput,
    identify_license,
    image_status,
    run_code_check,
    run_code_checks,
)
from registry.spec.deploy import DEPLOY_KINDS
from registry.spec.members import ReleaseFiles, entries_of
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


COMPOSE = """# 주차 공유 서비스: 단일 호스트 배포
services:
  parking-share:
    build: ..
    image: parking-share:1.2.0
    environment:
      NGSI_LD_HUB: ${NGSI_LD_HUB:-http://host.docker.internal:1026}
      안내문구: "주차면이 비어 있습니다"
    ports:
      - "8080:8080"
    restart: unless-stopped
    x-담당부서: 교통정책과
"""


def compose_result(text: str):
    return run("deploy-files", code_input(files={"deploy/compose.yaml": text.encode()}))


def test_compose_file_within_the_specification_passes_its_schema():
    result = compose_result(COMPOSE)
    assert [f for f in result.findings if f.severity == "fail"] == []
    assert result.status == "warn"  # the image has a tag but no digest
    assert result.extra["compose_schema"].startswith("Compose specification schema")


@pytest.mark.parametrize("sample", ["parking-share", "flood-alert", "smart-bus-shelter"])
def test_sample_compose_files_pass_the_compose_specification(sample):
    result = run("deploy-files", code_input(sample))
    assert not [f for f in result.findings if "Compose specification" in f.message]
    if result.status == "pass":
        assert result.params["compose"] == 1 and "Compose specification" in result.sentence


def test_misspelt_compose_key_fails_on_the_key_line():
    broken = COMPOSE.replace("    restart: unless-stopped\n", "    restrat: unless-stopped\n")
    result = compose_result(broken)
    assert result.status == "fail"
    line = broken.splitlines().index("    restrat: unless-stopped") + 1
    failing = [f for f in result.findings if f.severity == "fail"]
    assert [(f.path, f.line) for f in failing] == [("deploy/compose.yaml", line)]
    assert failing[0].message == "services.parking-share: unknown key 'restrat' (Compose specification)"
    assert result.params["compose"] == 1 and result.params["n"] == len(result.findings)
    assert "break the Compose specification" in result.sentence


def test_compose_ports_as_a_string_fails_as_a_wrong_type_on_its_line():
    broken = COMPOSE.replace('    ports:\n      - "8080:8080"\n', '    ports: "8080"\n')
    result = compose_result(broken)
    assert result.status == "fail"
    line = broken.splitlines().index('    ports: "8080"') + 1
    failing = [f for f in result.findings if f.severity == "fail"]
    assert [(f.path, f.line, f.message) for f in failing] == [
        ("deploy/compose.yaml", line, "services.parking-share.ports: '8080' is not of type 'array' "
                                      "(Compose specification)")]


def test_compose_value_of_no_allowed_type_names_the_types():
    result = compose_result(COMPOSE.replace("    build: ..\n", "    build: 12\n"))
    failing = [f for f in result.findings if f.severity == "fail"]
    assert [(f.line, f.message) for f in failing] == [
        (4, "services.parking-share.build: 12 is not of type object or string (Compose specification)")]


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
    assert {r.status for r in results} <= {"timed_out", "fail"}
    assert all(r.extra.get("timed_out") for r in results)
    timed_out = next(r for r in results if r.status == "timed_out")
    assert timed_out.sentence.startswith("Timed out after") and timed_out.params["mb"] == 0


def test_a_check_that_raises_is_an_error_with_its_one_line_not_an_exception():
    def broken(code, budget):
        raise ValueError("한글 파일 이름을 읽을 수 없습니다\n두 번째 줄은 저장하지 않습니다")

    code = code_input()
    try:
        result = run_code_check("secrets", code, check=broken)
    finally:
        code.close()
    assert result.status == "error"
    assert result.params == {"error": "ValueError: 한글 파일 이름을 읽을 수 없습니다"}
    assert result.summary == "The check failed to run: ValueError: 한글 파일 이름을 읽을 수 없습니다"


def test_a_check_that_never_comes_back_is_timed_out_after_its_budget(monkeypatch):
    import threading
    import time

    from registry.spec import codechecks

    monkeypatch.setattr(codechecks, "GRACE", 0.05)
    release = threading.Event()

    def stuck(code, budget):  # ignores its budget, as a scanner caught in a pathological file would
        release.wait(5)
        return codechecks.CheckResult("secrets", "pass", "늦은 결과")

    code, started = code_input(), time.monotonic()
    try:
        result = run_code_check("secrets", code, seconds=0.1, check=stuck)
    finally:
        release.set()
        code.close()
    assert time.monotonic() - started < 2
    assert result.status == "timed_out" and result.findings == []
    assert result.params == {"seconds": 0.1} and result.extra["timed_out"]["seconds"] == 0.1




def test_vendored_files_are_not_asked_for_reuse_information():
    own = "// 정류장 화면\nconsole.log('안녕');\n".encode()
    result = run("license-files", code_input(files={"web/node_modules/dep/index.js": own, "web/src/view.js": own}))
    paths = {f.path for f in result.findings}
    assert "web/src/view.js" in paths and "web/node_modules/dep/index.js" not in paths


def test_blobs_are_charged_the_bytes_they_sniff_not_whole_images():
    images = {f"docs/img/map{i}.png": b"\x89PNG\r\n\x1a\n" + bytes(200_000) for i in range(5)}
    code, budget = code_input(files={**images, "bin/helper": ELF}), Budget(max_bytes=50_000)
    try:
        result = CHECKS["blobs"](code, budget)
    finally:
        code.close()
    assert not budget.exhausted  # a megabyte of images, told by their first bytes
    assert ("bin/helper", None, "fail") in located(result)


def test_secrets_scan_the_packages_own_files_before_vendored_ones():
    vendored = {f"a/node_modules/dep{i}/index.js": b"// vendored\n" + b"x = 1\n" * 2000 for i in range(5)}
    config = f"# 주차장 설정\naws_access_key_id = {AWS_KEY}\n".encode()
    code = code_input(files={**vendored, "zz/settings.ini": config})
    own_bytes = sum(e.size for e in code.files.entries if not e.generated and e.kind == "text")
    budget = Budget(max_bytes=own_bytes + 100)  # the package's own text files, not the vendored ones
    try:
        result = CHECKS["secrets"](code, budget)
    finally:
        code.close()
    assert budget.exhausted and ("zz/settings.ini", 2, "fail") in located(result)


def test_an_executable_too_large_to_keep_is_still_told_by_its_first_bytes():
    from registry.spec import codechecks
    from registry.spec.archive import ArchiveLimits

    archive = sample_package("9.9.9", files={"bin/정류장-agent": ELF + bytes(64 * 1024)})
    contents = read_archive(io.BytesIO(archive), ArchiveLimits(max_kept_file_bytes=32 * 1024))
    assert "bin/정류장-agent" not in contents.files  # larger than what is kept
    code = codechecks.code_input(contents, yaml.safe_load(contents.files["solution.yaml"]))
    result = run("blobs", code)
    assert ("bin/정류장-agent", None, "fail") in located(result)


def test_bandit_out_of_time_says_timed_out_with_how_far_it_got():
    source = "def free_spaces(lot):\n    # 빈 주차면 수\n    return lot['capacity'] - lot['occupied']\n"
    # 400 such files take bandit about 0.5 s on a quiet machine; 3,000 leave a wide margin either way.
    many = {f"parking_share/gen/m{i:04d}.py": source.encode() for i in range(3000)}
    code = code_input(files=many)
    try:
        result = run_code_check("secure-coding", code, seconds=0.4)
    finally:
        code.close()
    assert result.status == "timed_out"  # nothing found in what it read, which is not all: never "pass"
    assert result.extra["timed_out"] and 0 < result.extra["scanned"] < result.extra["python_files"]


def test_the_packages_own_files_are_kept_before_vendored_ones_use_up_the_limit():
    from registry.spec import codechecks
    from registry.spec.archive import ArchiveLimits

    vendored = {f"web/node_modules/dep{i}/index.js": b"// vendored\n" + b"x = 1;\n" * 1500 for i in range(10)}
    own = f"// 정류장 화면\nconst key = '{AWS_KEY}';\n".encode() + b"render();\n" * 2000
    archive = sample_package("9.9.9", files={**vendored, "web/src/view.js": own})
    sizes = {m.path: m.size for m in read_archive(io.BytesIO(archive)).members}
    # Room for the sample and the vendored files, not for the view after them as well.
    limits = ArchiveLimits(max_kept_total_bytes=sum(sizes.values()) - sizes["web/src/view.js"] + 1000)
    one_pass = read_archive(io.BytesIO(archive), limits)
    assert "web/src/view.js" not in one_pass.files  # web/node_modules/ comes first and used the limit up
    contents = codechecks.read_for_checks(lambda: io.BytesIO(archive), limits)
    assert "web/src/view.js" in contents.files and any(p.startswith("web/node_modules/") for p in contents.files)
    assert sum(map(len, contents.files.values())) <= limits.max_kept_total_bytes
    result = run("secrets", codechecks.code_input(contents, yaml.safe_load(contents.files["solution.yaml"])))
    assert ("web/src/view.js", 2, "fail") in located(result)
