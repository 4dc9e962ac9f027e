import json
from pathlib import Path

import git

APACHE = Path(__file__).resolve().parents[2] / "sample_solutions" / "parking-share" / "LICENSE"
AWS_KEY = "AKIA" + "Z7QXPLM2RTWV4N8K"  # built here so no scanner of this repository takes it for a real one


def problems(result):
    return {p["code"]: p for p in json.loads(result.stdout)["problems"]}


def test_clean_tagged_solution_passes(solreg, solution_repo):
    # The kit has no LICENSE file, which the licence-files code check fails (tested below).
    result = solreg("check", str(solution_repo), "--format", "json", "--no-code-checks")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert all(p["severity"] == "warning" for p in report["problems"])


def test_git_problems_are_reported(solreg, solution_repo, kit):
    repo = git.Repo(solution_repo)
    (solution_repo / "README.md").write_text("after the tag")
    kit.commit_all(repo, "more")
    (solution_repo / "scratch.txt").write_text("untracked")
    result = solreg("check", str(solution_repo), "--format", "json")
    assert result.returncode == 1
    found = problems(result)
    assert found["git-dirty"]["severity"] == "error"
    assert "scratch.txt" in found["git-dirty"]["message"]
    assert "points at" in found["git-untagged"]["message"]
    assert json.loads(result.stdout)["ok"] is False


def test_not_a_git_repo(solreg, tmp_path, kit):
    directory = kit.write_solution(tmp_path / "plain")
    result = solreg("check", str(directory), "--format", "json")
    assert result.returncode == 1
    assert "not-a-git-repo" in problems(result)


def test_manifest_errors_come_from_the_validator(solreg, solution_repo, kit):
    manifest = solution_repo / "solution.yaml"
    manifest.write_text(manifest.read_text().replace("categories: [mobility, parking]", "categories: [rockets]"))
    repo = git.Repo(solution_repo)
    kit.commit_all(repo, "bad category")
    repo.create_tag("v1.2.0", force=True)
    result = solreg("check", str(solution_repo), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert errors and all(p["code"] not in ("git-dirty", "git-untagged") for p in errors)
    assert any(p["path"].startswith("categories") and p["line"] for p in errors)


def test_text_output_is_a_table(solreg, solution_repo):
    (solution_repo / "scratch.txt").write_text("x")
    result = solreg("check", str(solution_repo), env={"COLUMNS": "200"})
    assert result.returncode == 1
    assert "severity" in result.stdout and "git-dirty" in result.stdout
    assert "1 error(s)" in result.stdout


def test_missing_manifest_is_a_one_line_error(solreg, tmp_path):
    result = solreg("check", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("error: no solution.yaml in ")


def _break_sbom_schema(solution_repo):
    sbom = solution_repo / "sbom.cdx.json"
    doc = json.loads(sbom.read_text())
    doc["components"] = [{"type": "주차장", "name": "주차-라이브러리"}]  # not a CycloneDX component type
    sbom.write_text(json.dumps(doc, ensure_ascii=False))


def test_the_built_tagged_package_gets_the_registrys_deep_sbom_check(solreg, solution_repo, kit):
    _break_sbom_schema(solution_repo)
    repo = git.Repo(solution_repo)
    kit.commit_all(repo, "broken sbom")
    repo.create_tag("v1.2.0", force=True)
    result = solreg("check", str(solution_repo), "--format", "json")
    assert result.returncode == 1
    found = problems(result)
    assert found["invalid-sbom"]["path"] == "$.components[0].type"
    assert "does not match the CycloneDX 1.6 schema" in found["invalid-sbom"]["message"]


def test_before_the_tag_the_tracked_files_of_the_work_tree_are_inspected(solreg, solution_repo):
    git.Repo(solution_repo).delete_tag("v1.2.0")
    _break_sbom_schema(solution_repo)  # not committed: the work tree's version is built
    result = solreg("check", str(solution_repo), "--format", "json")
    assert result.returncode == 1
    assert "invalid-sbom" in problems(result)
    assert git.Repo(solution_repo).git.stash("list") == ""  # nothing was stashed


def licensed(solution_repo, kit, **files: str):
    """The kit's solution with the Apache licence text it declares (and `files`), committed and tagged."""
    (solution_repo / "LICENSE").write_bytes(APACHE.read_bytes())
    for name, text in files.items():
        (solution_repo / name).parent.mkdir(parents=True, exist_ok=True)
        (solution_repo / name).write_text(text)
    repo = git.Repo(solution_repo)
    kit.commit_all(repo, "licence")
    repo.create_tag("v1.2.0", force=True)
    return solution_repo


def test_the_code_checks_run_on_the_built_package_each_with_its_status(solreg, solution_repo, kit):
    result = solreg("check", str(licensed(solution_repo, kit)), env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    shown = {line.split()[1]: line.split()[0] for line in lines[lines.index("code checks:") + 1:]
             if line.startswith("  ") and not line.startswith("      ")}
    assert shown.keys() == {"license-files", "blobs", "secrets", "secure-coding", "deploy-files"}
    assert shown["secrets"] == "pass" and shown["deploy-files"] == "warn"  # a tag, no digest
    report = json.loads(solreg("check", str(solution_repo), "--format", "json").stdout)
    assert {c["name"]: c["status"] for c in report["code_checks"]} == shown and report["ok"] is True


def test_a_failing_code_check_exits_1_with_one_line_and_a_hint(solreg, solution_repo, kit):
    config = f"# 주차장 설정\naws_access_key_id = {AWS_KEY}\n"
    result = solreg("check", str(licensed(solution_repo, kit, **{"config/settings.ini": config})))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "error: code check(s) failed: secrets"
    assert result.stderr.splitlines()[1].startswith("hint: fix the findings listed above")
    assert "config/settings.ini:2" in result.stdout and AWS_KEY not in result.stdout
    report = json.loads(solreg("check", str(solution_repo), "--format", "json").stdout)
    assert report["ok"] is False and {c["name"]: c["status"] for c in report["code_checks"]}["secrets"] == "fail"
