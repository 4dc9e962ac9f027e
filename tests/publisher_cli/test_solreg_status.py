"""`solreg status` prints the automated checks the registry sends the publishing organization, and
nothing when it sends none (another organization's release: "checks": null)."""

from tests.publisher_cli.test_solreg_account import RELEASE, record

CHECKS = [{"name": "manifest", "status": "pass", "summary": "solution.yaml is valid"},
          {"name": "secrets", "status": "fail", "summary": "1 possible secret(s) committed: AWS Access Key"},
          {"name": "vulnerabilities", "status": "running", "summary": "queued"},
          {"name": "licenses", "status": "error", "summary": "The check failed to run: 색인 오류"}]


def test_status_prints_each_check_with_its_status(solreg, stub):
    stub.on("GET", RELEASE, (200, {"release": record(checks=CHECKS)}))
    result = solreg("status", "parking-share@1.2.0", env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    checks = lines[lines.index("checks:") + 1:]
    assert [line.split()[:2] for line in checks] == [["pass", "manifest"], ["fail", "secrets"],
                                                      ["running", "vulnerabilities"], ["error", "licenses"]]
    assert "The check failed to run: 색인 오류" in checks[3]


def test_status_prints_no_checks_where_the_registry_shows_none(solreg, stub):
    stub.on("GET", RELEASE, (200, {"release": record(checks=None)}))
    result = solreg("status", "parking-share@1.2.0", env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 0, result.stderr
    assert "checks" not in result.stdout


def test_status_of_a_solution_counts_the_checks_that_did_not_pass(solreg, stub):
    stub.on("GET", "/api/v1/solutions/parking-share", (200, {"solution": {
        "name": "parking-share", "state": "active", "latest_version": None,
        "releases": [record(state="pending_review", queue_position=1, checks=CHECKS)]}}))
    result = solreg("status", "parking-share", env={"SOLREG_REGISTRY_URL": stub.url})
    assert result.returncode == 0, result.stderr
    assert "pending_review (queue position 1) [checks: 1 error, 1 fail, 1 running]" in result.stdout
