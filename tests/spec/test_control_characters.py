"""A control character in any manifest text (a NUL breaks XML feeds and PostgreSQL text) is refused by the
spec, so `solreg check` and the registry's upload agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.spec import validate_manifest
from tests.publisher_cli.conftest import run_solreg, write_solution
from tests.publishing.packages import build_archive, package_files
from tests.spec.spec_support import FULL_EXAMPLE

CODE = "text-control-character"


def _with(old: str, new: str) -> bytes:
    text = FULL_EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1).encode()


def _problems(data: bytes, catalogue):
    return [p for p in validate_manifest(data, catalogue=catalogue).problems if p.code == CODE]


@pytest.mark.parametrize(("old", "new", "path"), [
    ("ko: 스마트 주차 공유", 'ko: "스마트 주차\\0 공유"', "title.ko"),
    ("keywords: [parking, sharing, 주차, 주차공유]", 'keywords: [parking, "sharing\\e", 주차, 주차공유]', "keywords[1]"),
    ("name: 김담당", 'name: "김\\r담당"', "maintenance.contacts[0].name"),
    ("fundedBy: 국토교통부 (MOLIT)", 'fundedBy: "국토교통부\\x1b[31m"', "funding.fundedBy"),
])
def test_control_characters_are_refused_where_they_are(old, new, path, catalogue):
    [problem] = _problems(_with(old, new), catalogue)
    assert problem.severity == "error" and problem.path == path and problem.line
    assert "U+" in problem.message and problem.hint


def test_a_control_character_in_a_key_is_refused(catalogue):
    [problem] = _problems(_with("funding:\n", 'funding:\n  "x\\0": 1\n'), catalogue)
    assert problem.severity == "error" and problem.path.startswith("funding.")


def test_tab_and_newline_are_text(catalogue):
    assert _problems(_with("ko: 스마트 주차 공유", 'ko: "스마트\\t주차\\n공유"'), catalogue) == []


def test_upload_with_a_nul_in_the_title_leaves_nothing(app, upload, vendor_token, app_config):
    from registry.db import db
    from registry.releases.models import Release

    files = package_files(title={"ko": "스마트 주차\x00 공유", "en": "Smart Parking"})
    assert b'\\0' in files["solution.yaml"]
    response = upload(vendor_token, build_archive(files))
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    [error] = response.get_json()["errors"]
    assert error["field"] == "title.ko" and "U+0000" in error["detail"]
    assert db.session.scalar(select(func.count()).select_from(Release)) == 0
    blobs = Path(app_config["STORAGE_PATH"])
    assert not [p for p in blobs.rglob("*") if p.is_file()]


def test_solreg_check_refuses_it(tmp_path):
    directory = write_solution(tmp_path / "solution")
    manifest = directory / "solution.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("ko: 스마트 주차 공유", 'ko: "스마트 주차\\0 공유"', 1),
                        encoding="utf-8")
    result = run_solreg("check", str(directory), "--format", "json", env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert result.returncode == 1
    assert f'"code": "{CODE}"' in result.stdout, result.stdout
