import gzip
import hashlib
import json
import os
import tarfile
from datetime import datetime, timezone

import git
import pytest

from publisher_cli.commands.build import build_release
from publisher_cli.errors import BuildError, UntaggedRelease
from registry.spec.provenance import parse_statement

COMMIT_TIME = int(datetime(2024, 3, 1, 0, 30, tzinfo=timezone.utc).timestamp())


def members(path):
    with tarfile.open(path, "r:gz") as tar:
        return tar.getmembers()


def test_archive_layout_and_normalised_metadata(solution_repo, tmp_path):
    result = build_release(solution_repo, tmp_path / "out")
    assert result.archive.path.name == "parking-share-1.2.0.tar.gz"
    data = result.archive.path.read_bytes()
    assert result.archive.sha256 == hashlib.sha256(data).hexdigest()
    assert result.archive.size == len(data)

    entries = members(result.archive.path)
    names = [m.name for m in entries]
    assert names == sorted(names)
    assert names == [
        "parking-share-1.2.0/README.md",
        "parking-share-1.2.0/bin/start.sh",
        "parking-share-1.2.0/deploy/compose.yaml",
        "parking-share-1.2.0/deploy/helm/parking-share/Chart.yaml",
        "parking-share-1.2.0/sbom.cdx.json",
        "parking-share-1.2.0/solution.yaml",
    ]
    for member in entries:
        assert member.isfile()
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
        assert member.mtime == COMMIT_TIME
        assert member.mode == (0o755 if member.name.endswith("start.sh") else 0o644)

    # gzip header: no FNAME flag, mtime 0, OS "unknown".
    assert data[:3] == b"\x1f\x8b\x08"
    assert data[3] == 0
    assert data[4:8] == b"\0\0\0\0"
    assert data[9] == 255
    assert gzip.decompress(data)  # and it is a complete stream


def test_provenance_describes_the_archive(solution_repo, tmp_path):
    result = build_release(solution_repo, tmp_path / "out")
    assert result.provenance_path.name == "parking-share-1.2.0.provenance.json"
    info = parse_statement(result.provenance_path.read_bytes())
    repo = git.Repo(solution_repo)
    assert info.subject_name == "parking-share-1.2.0.tar.gz"
    assert info.subject_sha256 == result.archive.sha256
    assert info.repository == "https://git.example.org/cheonan/parking-share"
    assert info.tag == "v1.2.0"
    assert info.commit == repo.tags["v1.2.0"].commit.hexsha
    assert info.builder_id.startswith("solreg/")
    assert info.started_on == datetime.fromtimestamp(COMMIT_TIME, timezone.utc)


def test_two_clones_build_identical_bytes(solution_repo, tmp_path):
    first = git.Repo.clone_from(solution_repo, tmp_path / "clone-a")
    old_umask = os.umask(0o077)  # a stricter umask changes work-tree modes, not the archive
    try:
        second = git.Repo.clone_from(solution_repo, tmp_path / "clone-b")
    finally:
        os.umask(old_umask)
    for path in (tmp_path / "clone-b").rglob("*"):
        if ".git" not in path.parts:
            os.utime(path, (1_000_000_000, 1_000_000_000))  # a different checkout time
    a = build_release(tmp_path / "clone-a", tmp_path / "out-a")
    b = build_release(tmp_path / "clone-b", tmp_path / "out-b")
    assert a.archive.sha256 == b.archive.sha256
    assert a.archive.path.read_bytes() == b.archive.path.read_bytes()
    assert a.provenance_path.read_bytes() == b.provenance_path.read_bytes()
    assert first.head.commit == second.head.commit


def test_builds_the_tagged_commit_not_the_work_tree(solution_repo, tmp_path, kit):
    repo = git.Repo(solution_repo)
    (solution_repo / "README.md").write_text("changed after the tag\n")
    kit.commit_all(repo, "later work")
    (solution_repo / "uncommitted.txt").write_text("scratch")
    result = build_release(solution_repo, tmp_path / "out")
    with tarfile.open(result.archive.path, "r:gz") as tar:
        names = tar.getnames()
        readme = tar.extractfile("parking-share-1.2.0/README.md").read()
    assert readme == "# 스마트 주차 공유\n".encode()
    assert "parking-share-1.2.0/uncommitted.txt" not in names
    assert parse_statement(result.provenance_path.read_bytes()).commit == repo.tags["v1.2.0"].commit.hexsha


def test_default_output_is_dist_next_to_the_manifest(solution_repo):
    result = build_release(solution_repo)
    assert result.archive.path == solution_repo / "dist" / "parking-share-1.2.0.tar.gz"


def test_solution_in_a_subdirectory(tmp_path, kit):
    root = tmp_path / "city-monorepo"
    root.mkdir()
    solution = kit.write_solution(root / "apps" / "parking-share")
    (root / "apps" / "other").mkdir()
    (root / "apps" / "other" / "secret.txt").write_text("not part of the solution")
    (root / "README.md").write_text("monorepo")
    repo = kit.init_repo(root)
    kit.commit_all(repo)
    repo.create_tag("parking-share/v1.2.0")

    result = build_release(solution, tmp_path / "out")
    names = [m.name for m in members(result.archive.path)]
    assert "parking-share-1.2.0/solution.yaml" in names
    assert "parking-share-1.2.0/bin/start.sh" in names
    assert not any("secret" in n or n.endswith("/README.md") and "apps" in n for n in names)
    assert all(n.startswith("parking-share-1.2.0/") and "apps/" not in n for n in names)
    assert result.subdirectory == "apps/parking-share"
    statement = json.loads(result.provenance_path.read_bytes())
    assert statement["predicate"]["buildDefinition"]["externalParameters"]["subdirectory"] == "apps/parking-share"


def test_symlink_is_refused(solution_repo, tmp_path, kit):
    repo = git.Repo(solution_repo)
    (solution_repo / "current").symlink_to("deploy/compose.yaml")
    kit.commit_all(repo, "add link")
    repo.create_tag("v1.2.0", force=True)
    with pytest.raises(BuildError, match="current is a symbolic link"):
        build_release(solution_repo, tmp_path / "out")
    assert not list((tmp_path / "out").glob("*.tar.gz"))


def test_submodule_is_refused(solution_repo, tmp_path, kit):
    repo = git.Repo(solution_repo)
    head = repo.head.commit.hexsha
    repo.git.update_index("--add", "--cacheinfo", f"160000,{head},vendor/lib")
    repo.git.commit("-m", "add submodule")
    repo.create_tag("v1.2.0", force=True)
    with pytest.raises(BuildError, match="vendor/lib is a git submodule"):
        build_release(solution_repo, tmp_path / "out")


def test_missing_tag_is_refused(tmp_path, kit):
    root = kit.write_solution(tmp_path / "parking-share")
    repo = kit.init_repo(root)
    kit.commit_all(repo)
    repo.create_tag("v1.1.0")  # the wrong version
    with pytest.raises(UntaggedRelease, match=r"no git tag for version 1\.2\.0.*HEAD is tagged v1\.1\.0"):
        build_release(root, tmp_path / "out")


def test_tag_whose_manifest_has_another_version_is_refused(tmp_path, kit):
    root = kit.write_solution(tmp_path / "parking-share")
    repo = kit.init_repo(root)
    manifest = root / "solution.yaml"
    manifest.write_text(manifest.read_text().replace("version: 1.2.0", "version: 1.1.0"))
    kit.commit_all(repo)
    repo.create_tag("v1.2.0")
    manifest.write_text(manifest.read_text().replace("version: 1.1.0", "version: 1.2.0"))
    with pytest.raises(BuildError, match="tag v1.2.0 holds parking-share@1.1.0"):
        build_release(root, tmp_path / "out")
