"""The CLI as a user meets it: a subprocess, exit codes, one-line errors."""

import subprocess
import sys

HEAVY = ("requests", "rich", "git", "cryptography", "yaml", "urllib3", "registry.spec.provenance")


def test_help_lists_commands(solreg):
    result = solreg("--help")
    assert result.returncode == 0
    for command in ("init", "check", "sbom", "build", "publish", "keygen", "keys", "status", "yank",
                    "unyank", "login", "whoami", "search", "info", "download", "verify"):
        assert f"  {command} " in result.stdout


def test_help_imports_nothing_heavy():
    code = ("import sys\nfrom publisher_cli.main import cli\n"
            "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            f"print('LOADED=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Commands:" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "LOADED="


def test_expected_failure_is_one_error_line_and_a_hint(solreg, tmp_path):
    result = solreg("build", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: no solution.yaml in {tmp_path.resolve()}",
                     "hint: run `solreg init` to create one"]
    assert "Traceback" not in result.stderr


def test_verbose_shows_the_traceback(solreg, tmp_path):
    result = solreg("--verbose", "build", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "error: no solution.yaml" in result.stderr


def test_usage_errors_exit_2(solreg):
    assert solreg("yank", "parking-share", "--reason", "x").returncode == 2
    assert solreg("check", "--format", "xml").returncode == 2
    assert solreg("no-such-command").returncode == 2
    result = solreg("download", "Not_A_Name@1.0.0")
    assert result.returncode == 2
    assert "expected NAME@VERSION" in result.stderr


def test_registry_error_is_one_line(solreg, stub):
    stub.on("GET", "/api/v1/solutions/parking-share/releases/9.9.9",
            (404, {"errors": [{"code": "not-found", "detail": "no release 9.9.9 of parking-share", "field": None}]}))
    result = solreg("status", "parking-share@9.9.9", env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "error: registry refused (404): no release 9.9.9 of parking-share"
    assert result.stderr.splitlines()[1].startswith("hint: ")


def test_not_logged_in(solreg):
    result = solreg("whoami", env={"SOLREG_REGISTRY_URL": "http://127.0.0.1:9"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: not logged in to registry 'default'")


def test_version(solreg):
    result = solreg("--version")
    assert result.returncode == 0 and result.stdout.startswith("solreg, version ")
