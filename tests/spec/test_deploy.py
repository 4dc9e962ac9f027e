"""Deploy target checks on real package files."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.spec.deploy import (
    DEPLOY_KINDS,
    KUBE_VERSION_KINDS,
    UnknownDeployKind,
    check_deploy_target,
    install_commands,
)
from registry.spec.files import DirectoryFiles, MappingFiles
from registry.spec.schema import read_schema
from registry.spec.vocabulary import LANGUAGES

WHERE = "deploy.targets[0]"


def codes(kind: str, path: str, files: dict[str, bytes]) -> list[str]:
    problems = check_deploy_target(kind, path, MappingFiles(files), WHERE)
    assert all(p.path == f"{WHERE}.path" and p.message and p.hint for p in problems)
    return [p.code for p in problems]


def test_valid_targets() -> None:
    files = {
        "chart/Chart.yaml": b"apiVersion: v1\nname: app\nversion: 0.1.0\n",
        "compose.yaml": b"services:\n  web: {build: .}\n  db: {image: postgres:16}\n",
        "k8s/a.yaml": b"apiVersion: v1\nkind: Service\n---\n---\napiVersion: apps/v1\nkind: Deployment\n",
        "k8s/sub/b.yml": b"apiVersion: v1\nkind: ConfigMap\n",
        "k8s/README.md": b"not yaml: [",
        "vm/install.sh": b"#!/bin/sh\n",
        "cloud-init.yaml": b"#cloud-config\n",
    }
    assert codes("helm", "chart", files) == []
    assert codes("compose", "compose.yaml", files) == []
    assert codes("compose", ".", files) == []  # a directory holding compose.yaml
    assert codes("kubernetes", "k8s", files) == []
    assert codes("kubernetes", "k8s/a.yaml", files) == []
    assert codes("vm", "vm", files) == []
    assert codes("vm", "cloud-init.yaml", files) == []


@pytest.mark.parametrize(
    ("chart", "fragment"),
    [
        (b"apiVersion: v3\nname: app\nversion: 1.0.0\n", "apiVersion must be v1 or v2"),
        (b"apiVersion: v2\nversion: 1.0.0\n", "no name"),
        (b"apiVersion: v2\nname: app\nversion: 1.0\n", "not SemVer"),
        (b"apiVersion: v2\nname: [\n", "cannot be parsed"),
        (b"- a list\n", "must be a YAML mapping"),
    ],
)
def test_broken_chart(chart: bytes, fragment: str) -> None:
    problems = check_deploy_target("helm", "chart", MappingFiles({"chart/Chart.yaml": chart}), WHERE)
    assert [p.code for p in problems] == ["helm-chart-invalid"]
    assert fragment in problems[0].message


def test_helm_target_must_be_a_chart_directory() -> None:
    assert codes("helm", "chart.tgz", {"chart.tgz": b"\x1f\x8b"}) == ["helm-chart-missing"]
    assert codes("helm", "chart", {"chart/values.yaml": b"a: 1\n"}) == ["helm-chart-missing"]


def test_compose_problems() -> None:
    assert codes("compose", "c.yaml", {"c.yaml": b"services: {}\n"}) == ["compose-no-services"]
    assert codes("compose", "c.yaml", {"c.yaml": b"services:\n  a: {image: x}\n  b: {ports: [80]}\n  c: null\n"}) == [
        "compose-service-invalid", "compose-service-invalid"]
    assert codes("compose", "c.yaml", {"c.yaml": b"services: [\n"}) == ["compose-invalid"]
    assert codes("compose", "d", {"d/other.yaml": b"a: 1\n"}) == ["compose-file-missing"]


def test_kubernetes_problems() -> None:
    assert codes("kubernetes", "k8s", {"k8s/notes.txt": b"x"}) == ["kubernetes-no-manifests"]
    assert codes("kubernetes", "k8s", {"k8s/empty.yaml": b"# nothing\n"}) == ["kubernetes-no-manifests"]
    assert codes("kubernetes", "k8s", {"k8s/a.yaml": b"apiVersion: v1\n"}) == ["kubernetes-manifest-invalid"]
    assert codes("kubernetes", "k8s", {"k8s/a.yaml": b"- 1\n"}) == ["kubernetes-manifest-invalid"]
    assert codes("kubernetes", "k8s", {"k8s/a.yaml": b"kind: [\n"}) == ["kubernetes-manifest-invalid"]
    problems = check_deploy_target("kubernetes", "k8s", MappingFiles({"k8s/a.yaml": b"apiVersion: v1\nkind: A\n---\nkind: B\n"}), WHERE)
    assert "k8s/a.yaml document 2 has no apiVersion" in problems[0].message


def test_missing_path_and_large_file() -> None:
    assert codes("compose", "nope.yaml", {}) == ["deploy-path-missing"]
    assert codes("compose", "big.yaml", {"big.yaml": b"#" * (2 * 1024 * 1024)}) == ["file-too-large"]


def test_empty_vm_directory(tmp_path: Path) -> None:
    (tmp_path / "vm").mkdir()
    problems = check_deploy_target("vm", "vm", DirectoryFiles(tmp_path), WHERE)
    assert [p.code for p in problems] == ["vm-path-empty"]


def test_symlink_out_of_the_package(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("services: {a: {image: x}}\n")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "compose.yaml").symlink_to(tmp_path / "outside.yaml")
    problems = check_deploy_target("compose", "compose.yaml", DirectoryFiles(package), WHERE)
    assert [p.code for p in problems] == ["path-outside-package"]


# --- the registry of kinds ----------------------------------------------------------------


def test_every_kind_has_a_label_checks_install_commands_and_a_schema_entry() -> None:
    enum = read_schema()["properties"]["deploy"]["properties"]["targets"]["items"]["properties"]["kind"]["enum"]
    assert enum == list(DEPLOY_KINDS)
    for name, kind in DEPLOY_KINDS.items():
        assert set(kind.label) == set(LANGUAGES) and all(kind.label.values()), name
        assert callable(kind.check_files), name
        commands = install_commands(name, "parking-share", "deploy/x")
        assert commands and all(isinstance(c, str) and c for c in commands), name


@pytest.mark.parametrize(("kind", "command"), [
    ("helm", "helm install parking-share ./'deploy/my chart'"),
    ("compose", "docker compose -f 'deploy/my chart' up -d"),
    ("kubernetes", "kubectl apply -R -f 'deploy/my chart'"),
    ("vm", "sudo sh 'deploy/my chart/install.sh'"),
])
def test_install_commands_quote_the_vendor_path(kind: str, command: str) -> None:
    assert install_commands(kind, "parking-share", "deploy/my chart") == [command]


def test_a_vm_script_is_run_as_named() -> None:
    assert install_commands("vm", "parking-share", "vm/setup.sh") == ["sudo sh vm/setup.sh"]


def test_an_unknown_kind_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownDeployKind) as refused:
        install_commands("nomad", "parking-share", "deploy/nomad")
    assert str(refused.value) == "'nomad' is not a deployment kind (known: helm, compose, kubernetes, vm)."
    with pytest.raises(UnknownDeployKind):
        check_deploy_target("nomad", "deploy/nomad", MappingFiles({"deploy/nomad/job.hcl": b"job {}"}), WHERE)


def test_only_helm_targets_use_kube_version() -> None:
    assert KUBE_VERSION_KINDS == ("helm",)
