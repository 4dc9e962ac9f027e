"""``python -m registry.spec PATH``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from registry.spec.__main__ import main


def test_valid_package_exits_zero(package_dir: Path, capsys) -> None:
    assert main([str(package_dir)]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_broken_package_exits_one_and_prints_problems(package_dir: Path, capsys) -> None:
    manifest = package_dir / "solution.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("name: parking-share", "name: Parking"), encoding="utf-8")
    assert main([str(package_dir)]) == 1
    out = capsys.readouterr().out
    assert "error [name-not-slug] name:" in out


def test_json_output(package_dir: Path, capsys) -> None:
    (package_dir / "sbom.cdx.json").unlink()
    assert main([str(package_dir), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert [p["code"] for p in report["problems"]] == ["sbom-missing"]


def test_runs_as_a_module(package_dir: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "registry.spec", str(package_dir / "missing")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "manifest-missing" in result.stdout
