import json


def test_existing_sbom_is_validated(solreg, solution_repo):
    result = solreg("sbom", str(solution_repo))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"validated {solution_repo.resolve() / 'sbom.cdx.json'}"


def test_existing_sbom_for_another_release_fails(solreg, solution_repo):
    sbom = solution_repo / "sbom.cdx.json"
    sbom.write_text(sbom.read_text().replace('"1.2.0"', '"1.1.0"'))
    result = solreg("sbom", str(solution_repo))
    assert result.returncode == 1
    assert result.stderr.startswith("error: sbom.cdx.json: The SBOM describes version '1.1.0'")


def test_existing_sbom_failing_the_schema(solreg, solution_repo):
    sbom = solution_repo / "sbom.cdx.json"
    document = json.loads(sbom.read_text())
    document["components"] = [{"name": "x"}]  # a component needs a type
    sbom.write_text(json.dumps(document))
    result = solreg("sbom", str(solution_repo))
    assert result.returncode == 1
    assert "not valid CycloneDX 1.6" in result.stderr


def test_generates_from_requirements(solreg, tmp_path, kit):
    directory = kit.write_solution(tmp_path / "py")
    (directory / "sbom.cdx.json").unlink()
    (directory / "requirements.txt").write_text("requests==2.31.0\nflask>=3\n")
    result = solreg("sbom", str(directory))
    assert result.returncode == 0, result.stderr
    document = json.loads((directory / "sbom.cdx.json").read_text())
    assert document["specVersion"] == "1.6"
    component = document["metadata"]["component"]
    assert (component["name"], component["version"]) == ("parking-share", "1.2.0")
    assert sorted(c["name"] for c in document["components"]) == ["flask", "requests"]


def test_other_ecosystems_point_to_their_generator(solreg, tmp_path, kit):
    directory = kit.write_solution(tmp_path / "js")
    (directory / "sbom.cdx.json").unlink()
    (directory / "package.json").write_text("{}")
    result = solreg("sbom", str(directory))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: found package.json; solreg generates SBOMs for Python projects only"
    assert "cdxgen" in lines[1]


def test_nothing_to_generate_from(solreg, tmp_path, kit):
    directory = kit.write_solution(tmp_path / "empty")
    (directory / "sbom.cdx.json").unlink()
    result = solreg("sbom", str(directory))
    assert result.returncode == 1
    assert result.stderr.startswith("error: no pyproject.toml, requirements.txt")
