import git
import pytest

from publisher_cli.errors import NotAGitRepository, UntaggedRelease
from publisher_cli.gitinfo import (
    dirty_paths,
    find_release_tag,
    open_repo,
    origin_url,
    public_repository_url,
    subdirectory_of,
)


@pytest.mark.parametrize("tag", ["v1.2.0", "1.2.0", "parking-share-v1.2.0", "parking-share/v1.2.0"])
def test_accepted_tag_forms(tmp_path, kit, tag):
    root = kit.write_solution(tmp_path / "s")
    repo = kit.init_repo(root)
    kit.commit_all(repo)
    repo.create_tag(tag, message="annotated release")  # annotated tags peel to the commit
    found = find_release_tag(repo, "parking-share", "1.2.0")
    assert found.name == tag
    assert found.commit == repo.head.commit.hexsha


@pytest.mark.parametrize("tag", ["release-1.2.0", "v1.2", "other-v1.2.0", "v1.2.0-rc1"])
def test_other_tag_names_do_not_count(tmp_path, kit, tag):
    root = kit.write_solution(tmp_path / "s")
    repo = kit.init_repo(root)
    kit.commit_all(repo)
    repo.create_tag(tag)
    with pytest.raises(UntaggedRelease, match="looked for v1.2.0, 1.2.0, parking-share-v1.2.0, parking-share/v1.2.0"):
        find_release_tag(repo, "parking-share", "1.2.0")


def test_tag_must_be_on_head_when_required(solution_repo, kit):
    repo = git.Repo(solution_repo)
    (solution_repo / "README.md").write_text("more")
    kit.commit_all(repo, "after release")
    with pytest.raises(UntaggedRelease, match="tag v1.2.0 points at .* but HEAD is"):
        find_release_tag(repo, "parking-share", "1.2.0")
    assert find_release_tag(repo, "parking-share", "1.2.0", require_head=False).name == "v1.2.0"


def test_disagreeing_tags_are_refused(solution_repo, kit):
    repo = git.Repo(solution_repo)
    (solution_repo / "README.md").write_text("more")
    kit.commit_all(repo, "after release")
    repo.create_tag("1.2.0")
    with pytest.raises(UntaggedRelease, match="disagree"):
        find_release_tag(repo, "parking-share", "1.2.0")


def test_empty_repository(tmp_path, kit):
    repo = kit.init_repo(tmp_path / "empty")
    with pytest.raises(UntaggedRelease, match="no commits"):
        find_release_tag(repo, "x", "1.0.0")


def test_dirty_detection(solution_repo):
    repo = git.Repo(solution_repo)
    assert dirty_paths(repo) == []
    (solution_repo / "dist").mkdir()
    (solution_repo / "dist" / "parking-share-1.2.0.tar.gz").write_bytes(b"built")
    assert dirty_paths(repo) == []  # our own build output does not count
    (solution_repo / "notes.txt").write_text("untracked")
    (solution_repo / "README.md").write_text("modified")
    assert sorted(dirty_paths(repo)) == ["README.md", "notes.txt"]


def test_dirty_check_is_scoped_to_the_solution_subdirectory(tmp_path, kit):
    root = tmp_path / "mono"
    solution = kit.write_solution(root / "apps" / "parking")
    repo = kit.init_repo(root)
    kit.commit_all(repo)
    (root / "elsewhere.txt").write_text("unrelated work in progress")
    assert subdirectory_of(repo, solution) == "apps/parking"
    assert dirty_paths(repo, "apps/parking") == []
    (solution / "new.txt").write_text("x")
    assert dirty_paths(repo, "apps/parking") == ["apps/parking/new.txt"]


def test_not_a_repository(tmp_path):
    with pytest.raises(NotAGitRepository, match="not inside a git repository"):
        open_repo(tmp_path)


@pytest.mark.parametrize(
    "remote, expected",
    [
        ("https://user:secret@git.example.org/city/app.git", "https://git.example.org/city/app"),
        ("https://git.example.org:8443/city/app", "https://git.example.org:8443/city/app"),
        ("git@github.com:city/app.git", "https://github.com/city/app"),
        ("ssh://git@git.example.org/city/app.git", "https://git.example.org/city/app"),
        ("/srv/git/app.git", None),
        ("file:///srv/git/app.git", None),
    ],
)
def test_public_repository_url(remote, expected):
    assert public_repository_url(remote) == expected


def test_origin_url(solution_repo):
    repo = git.Repo(solution_repo)
    assert origin_url(repo) is None
    repo.create_remote("origin", "https://token:x@git.example.org/cheonan/parking-share.git")
    assert origin_url(repo) == "https://git.example.org/cheonan/parking-share"
