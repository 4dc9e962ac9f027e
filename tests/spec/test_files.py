"""Package file access: path normalisation, escapes refused, both implementations alike."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from registry.spec.files import (
    DirectoryFiles,
    FileTooLargeError,
    MappingFiles,
    PackageFileNotFound,
    PackageFiles,
    UnsafePathError,
    normalise_path,
    path_fault,
)

FILES = {"deploy/compose.yaml": b"services: {}\n", "deploy/helm/app/Chart.yaml": b"name: app\n", "sbom.cdx.json": b"{}"}


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("./deploy//helm/", "deploy/helm"), ("deploy\\compose.yaml", "deploy/compose.yaml"), (".", ""), ("", ""), ("a/../b", "b")],
)
def test_normalise_path(raw: str, normal: str) -> None:
    assert normalise_path(raw) == normal


@pytest.mark.parametrize("raw", ["/etc/passwd", "../x", "a/../../x", "C:\\x", "a\x00b", ".."])
def test_unsafe_paths(raw: str) -> None:
    with pytest.raises(UnsafePathError):
        normalise_path(raw)


@pytest.fixture(params=["directory", "mapping"])
def files(request: pytest.FixtureRequest, tmp_path: Path) -> PackageFiles:
    if request.param == "mapping":
        return MappingFiles(FILES)
    for name, data in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return DirectoryFiles(tmp_path)


def test_both_implementations_behave_alike(files: PackageFiles) -> None:
    assert isinstance(files, PackageFiles)
    assert files.exists("deploy/compose.yaml") and files.exists("./deploy") and files.exists("")
    assert files.is_dir("deploy/helm") and not files.is_dir("deploy/compose.yaml")
    assert not files.exists("deploy/other.yaml")
    assert files.read("./sbom.cdx.json", 10) == b"{}"
    assert files.list("deploy") == ["deploy/compose.yaml", "deploy/helm/app/Chart.yaml"]
    assert files.list("deploy/compose.yaml") == ["deploy/compose.yaml"]
    assert files.list() == sorted(FILES)
    with pytest.raises(FileTooLargeError):
        files.read("deploy/compose.yaml", 5)
    with pytest.raises(PackageFileNotFound):
        files.read("deploy", 100)
    with pytest.raises(PackageFileNotFound):
        files.read("missing.txt", 100)
    with pytest.raises(UnsafePathError):
        files.exists("../outside")


def test_directory_refuses_symlinks_out_of_the_package(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    package = tmp_path / "package"
    package.mkdir()
    (package / "inside.txt").write_text("ok")
    os.symlink(outside, package / "link.txt")
    os.symlink(package / "inside.txt", package / "alias.txt")
    files = DirectoryFiles(package)
    with pytest.raises(UnsafePathError):
        files.read("link.txt", 100)
    assert files.read("alias.txt", 100) == b"ok"  # a symlink inside the package is fine
    assert files.list() == ["alias.txt", "inside.txt"]


def test_directory_root_must_exist(tmp_path: Path) -> None:
    with pytest.raises(PackageFileNotFound):
        DirectoryFiles(tmp_path / "missing")


@pytest.mark.parametrize("path,code", [
    ("/etc/passwd", "absolute-path"), ("C:/x", "absolute-path"), ("a\\b", "bad-path"), ("a\x00b", "bad-path"),
    ("..", "path-traversal"), ("pkg/../x", "path-traversal"),
])
def test_one_path_rule_names_each_fault(path: str, code: str) -> None:
    assert path_fault(path)[0] == code


def test_a_safe_path_has_no_fault() -> None:
    assert path_fault("deploy/helm/Chart.yaml") is None and path_fault("./x..y/z") is None
