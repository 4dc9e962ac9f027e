from sqlalchemy import select

from registry.db import db
from registry.sbom.cli import osv_cli
from registry.sbom.models import Vulnerability

from .conftest import OSV


def test_osv_import_command(app):
    result = app.test_cli_runner().invoke(osv_cli, ["import", str(OSV / "records")])
    assert result.exit_code == 0, result.output
    assert "imported: 9" in result.output and "withdrawn: 1" in result.output and "failed files: 0" in result.output
    assert db.session.get(Vulnerability, "GO-2022-1059") is not None


def test_osv_import_command_fails_on_a_bad_file(app):
    result = app.test_cli_runner().invoke(osv_cli, ["import", str(OSV / "bad")])
    assert result.exit_code == 1
    assert "failed files: 3" in result.output
    assert "not-osv.json: not an OSV record: missing 'id'" in result.output
    assert "Error: 3 file(s) not imported; the others were\nHint: fix or remove the files listed above" in result.output
    assert db.session.scalars(select(Vulnerability.id)).all() == ["TEST-2024-0103"]


def test_osv_import_command_reports_rematching_progress(app, make_release, ingest):
    release = make_release("parking-share", "1.0.0")  # 주차 공유
    ingest(release, "cdxgen-npm.cdx.json")
    result = app.test_cli_runner().invoke(osv_cli, ["import", str(OSV / "records")])
    assert result.exit_code == 0, result.output
    assert "re-matched 1/1 releases" in result.output
