"""The CLI's hints are right, its output readable in Korean, and its build output never committed."""

import json

import pytest

from publisher_cli.client import RegistryClient
from publisher_cli.errors import ConfigError, RegistryAnswerError
from registry.spec.provenance import release_tags
from registry.spec.validator import validate_manifest

LONG_SUMMARY = "도시 데이터 허브의 주차장 정보로 가까운 빈 주차장을 찾고 빈 주차면을 바로 예약하는 주차 공유 서비스입니다"


def test_search_prints_whole_korean_summaries_at_80_columns(solreg, stub):
    stub.on("GET", "/api/v1/solutions", (200, {"results": [
        {"name": "parking-share", "title": {"ko": "스마트 주차 공유", "en": "Smart Parking"},
         "summary": {"ko": LONG_SUMMARY, "en": "Share spaces"}, "latest_version": "1.2.0", "org": "cheonan"}],
        "total": 1, "page": 1, "pages": 1}))
    found = solreg("search", "주차", env={"SOLREG_REGISTRY_URL": stub.url, "COLUMNS": "80", "LANG": "ko_KR.UTF-8"})
    assert found.returncode == 0, found.stderr
    assert LONG_SUMMARY in found.stdout and "스마트 주차 공유" in found.stdout


def test_info_prints_texts_in_the_readers_language_not_python_dicts(solreg, stub):
    stub.on("GET", "/api/v1/solutions/parking-share", (200, {"solution": {
        "name": "parking-share", "title": {"ko": "스마트 주차 공유", "en": "Smart Parking"},
        "summary": {"ko": LONG_SUMMARY, "en": "Share spaces"}, "org": "cheonan", "state": "active",
        "latest_version": "1.2.0", "releases": []}}))
    korean = solreg("info", "parking-share", env={"SOLREG_REGISTRY_URL": stub.url, "LANG": "ko_KR.UTF-8"})
    assert "title:   스마트 주차 공유" in korean.stdout and "{" not in korean.stdout
    english = solreg("info", "parking-share", env={"SOLREG_REGISTRY_URL": stub.url, "LANG": "en_US.UTF-8"})
    assert "title:   Smart Parking" in english.stdout


def test_a_registry_url_without_scheme_gets_a_one_line_hint(solreg):
    result = solreg("search", "주차", env={"SOLREG_REGISTRY_URL": "registry.example.org"})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: registry URL 'registry.example.org' has no http:// or https://",
        "hint: write it in full, e.g. `solreg login --url https://registry.example.org`"]
    with pytest.raises(ConfigError):
        RegistryClient("registry.example.org")


def test_a_refused_token_does_not_tell_you_to_run_the_login_you_are_running(stub):
    stub.on("GET", "/api/v1/whoami", (401, {"errors": [{"code": "unauthorized", "detail": "unknown API token"}]}))
    with pytest.raises(RegistryAnswerError) as caught:
        RegistryClient(stub.url, "solreg_wrong").whoami()
    assert "solreg login" not in caught.value.hint and "account page" in caught.value.hint


def test_the_registrys_own_hint_comes_before_the_one_for_its_status(stub):
    hint = "register your key with `solreg keys register` and sign with it"
    stub.on("GET", "/api/v1/solutions/parking-share", (409, {"errors": [
        {"code": "key-revoked", "detail": "서명 키가 폐기되었습니다", "field": "signature", "hint": hint}]}))
    stub.on("GET", "/api/v1/solutions/other", (409, {"errors": [{"code": "conflict", "detail": "다른 상태입니다"}]}))
    with pytest.raises(RegistryAnswerError) as caught:
        RegistryClient(stub.url).solution("parking-share")
    assert caught.value.hint == hint and caught.value.code == "key-revoked"
    with pytest.raises(RegistryAnswerError) as caught:
        RegistryClient(stub.url).solution("other")
    assert "bump `version`" in caught.value.hint


def test_the_missing_scope_message_names_the_real_way_to_get_one():
    from registry.accounts import service

    source = open(service.__file__, encoding="utf-8").read()
    assert "--scope {scope}" not in source and "create a token with it on your account page" in source


def test_a_version_with_a_v_suggests_a_single_v_tag():
    assert release_tags("parking-share", "v0.1.0")[0] == "v0.1.0"
    assert release_tags("parking-share", "0.1.0")[0] == "v0.1.0"


def test_an_unquoted_short_version_gets_a_semver_hint():
    report = validate_manifest("name: parking-share\nversion: 0.1\n")
    [problem] = [p for p in report.problems if p.path == "version"]
    assert problem.hint == 'Write three numbers in quotes: "0.1.0".'


def test_the_build_output_directory_ignores_itself(tmp_path, kit):
    from publisher_cli.commands.build import default_out_dir

    repo = kit.init_repo(tmp_path)
    out = default_out_dir(tmp_path)
    (out / "parking-share-1.2.0.tar.gz").write_bytes(b"old archive")
    assert (out / ".gitignore").read_text() == "*\n"
    assert repo.untracked_files == []


def test_sbom_after_a_version_bump_regenerates_without_output(solreg, tmp_path, kit):
    directory = kit.write_solution(tmp_path / "py")
    (directory / "requirements.txt").write_text("requests==2.31.0\n")
    assert solreg("sbom", str(directory)).returncode == 0
    manifest = directory / "solution.yaml"
    manifest.write_text(manifest.read_text().replace("version: 1.2.0", "version: 1.3.0"))
    result = solreg("sbom", str(directory))
    assert result.returncode == 0, result.stderr
    assert "regenerating" in result.stderr
    assert json.loads((directory / "sbom.cdx.json").read_text())["metadata"]["component"]["version"] == "1.3.0"
