"""What git knows about a solution: clean tree, release tag, source URL, subdirectory."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from publisher_cli.errors import GitError, NotAGitRepository, UntaggedRelease

if TYPE_CHECKING:
    import git


@dataclass(frozen=True)
class ReleaseTag:
    name: str
    commit: str
    commit_time: datetime  # UTC; used as archive mtime and provenance startedOn


def open_repo(path: Path) -> git.Repo:
    try:
        import git
    except ImportError as exc:  # GitPython raises ImportError when no git executable is found
        raise GitError(f"git is not usable: {exc}", hint="install git and make sure it is on PATH") from None
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise NotAGitRepository(f"{path} is not inside a git repository") from None
    if repo.bare or repo.working_tree_dir is None:
        raise NotAGitRepository(f"{path} is in a bare git repository")
    return repo


def subdirectory_of(repo: git.Repo, path: Path) -> str:
    """``path`` relative to the repository root, POSIX style; "" for the root itself."""
    relative = Path(path).resolve().relative_to(Path(repo.working_tree_dir).resolve())
    return "" if relative == Path(".") else relative.as_posix()


BUILD_OUTPUT_DIR = "dist"


def dirty_paths(repo: git.Repo, subdirectory: str = "") -> list[str]:
    """Modified, staged or untracked files in the solution's part of the tree.

    solreg's own build output (``dist/`` next to solution.yaml) does not count:
    archives are built from the tag, and a second ``publish`` must not trip over
    the first one's output.
    """
    prefix = f"{subdirectory}/" if subdirectory else ""
    scope = [subdirectory] if subdirectory else []
    output = repo.git.status("--porcelain", "--untracked-files=all", "--", *scope,
                             f":(exclude){prefix}{BUILD_OUTPUT_DIR}")
    return [line[3:] for line in output.splitlines() if line.strip()]


def _head_sha(repo: git.Repo) -> str:
    try:
        return repo.head.commit.hexsha
    except ValueError:
        raise UntaggedRelease("repository has no commits yet", hint="commit and tag the release") from None


def find_release_tag(repo: git.Repo, name: str, version: str, *, require_head: bool = True) -> ReleaseTag:
    """The tag naming ``version``; with ``require_head`` it must point at HEAD."""
    head = _head_sha(repo)
    from registry.spec.provenance import release_tags

    candidates = release_tags(name, version)
    tags = {}
    for tag in repo.tags:
        try:
            tags[tag.name] = tag.commit
        except ValueError:  # a tag pointing at a tree or blob, not a commit
            continue
    found = [(candidate, tags[candidate]) for candidate in candidates if candidate in tags]
    if not found:
        on_head = sorted(tag for tag, commit in tags.items() if commit.hexsha == head)
        detail = f"; HEAD is tagged {', '.join(on_head)}" if on_head else ""
        raise UntaggedRelease(
            f"no git tag for version {version} (looked for {', '.join(candidates)}){detail}",
            hint=f"tag the release commit: `git tag {candidates[0]}`",
        )
    if len({commit.hexsha for _, commit in found}) > 1:
        listing = ", ".join(f"{tag} -> {commit.hexsha[:10]}" for tag, commit in found)
        raise UntaggedRelease(f"tags for version {version} disagree: {listing}",
                              hint="delete the wrong tag so only one names the release")
    tag_name, commit = found[0]
    if require_head and commit.hexsha != head:
        raise UntaggedRelease(
            f"tag {tag_name} points at {commit.hexsha[:10]}, but HEAD is {head[:10]}",
            hint=f"check out {tag_name}, or bump `version` in solution.yaml and tag the new commit",
        )
    return ReleaseTag(tag_name, commit.hexsha, datetime.fromtimestamp(commit.committed_date, timezone.utc))


_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>(?!/).+)$")


def public_repository_url(url: str) -> str | None:
    """A shareable https URL for a remote: credentials stripped, ssh forms rewritten.

    Local paths and file:// remotes are not public, so they give ``None``.
    """
    url = url.strip()
    match = _SCP_LIKE.match(url) if "://" not in url else None
    if match:
        host, path = match["host"], match["path"]
    else:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https", "ssh", "git"} or not parts.hostname:
            return None
        if parts.scheme in {"http", "https"}:
            host = parts.hostname + (f":{parts.port}" if parts.port else "")
            cleaned = urlunsplit((parts.scheme, host, parts.path, "", ""))
            return cleaned.removesuffix(".git")
        host, path = parts.hostname, parts.path.lstrip("/")
    return f"https://{host}/{path.removesuffix('.git')}"


def origin_url(repo: git.Repo) -> str | None:
    try:
        urls = list(repo.remote("origin").urls)
    except ValueError:
        return None
    return public_repository_url(urls[0]) if urls else None


def read_committed_file(repo: git.Repo, commit: str, path: str) -> bytes | None:
    try:
        blob = repo.commit(commit).tree / path
    except KeyError:
        return None
    return blob.data_stream.read()
