"""The deployment kinds a solution can be installed by, in one registry: each kind's label, the
checks of the files behind a ``deploy.targets`` entry and the commands that install it.

The checks catch a wrong path or a broken chart/compose/manifest before a municipality tries to
install it; they are not a full Helm/Compose/Kubernetes validation. Adding a kind is adding one
entry to ``DEPLOY_KINDS``; the validator, the search facet, the solution page and the JSON Schema
(``python -m registry.spec.schema``) take their kinds from it. The review's deep file checks
(registry/spec/codechecks.py) are keyed by these names, and a test keeps them complete.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from registry.spec.files import FileTooLargeError, PackageFileError, PackageFiles, UnsafePathError
from registry.spec.problems import Problem, SpecError
from registry.spec.ranges import is_semver
from registry.spec.yamlload import YamlLimits, YamlLoadError, load_yaml_documents, load_yaml_mapping

CHART_LIMITS = YamlLimits(max_bytes=256 * 1024)
COMPOSE_LIMITS = YamlLimits(max_bytes=1024 * 1024)
KUBERNETES_LIMITS = YamlLimits(max_bytes=4 * 1024 * 1024)
MAX_KUBERNETES_FILES = 500
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
HELM_API_VERSIONS = ("v1", "v2")

FileCheck = Callable[[str, PackageFiles, str], list[Problem]]


class UnknownDeployKind(SpecError, ValueError):
    """A deployment kind this registry does not know: it gets no checks or commands of another kind."""


@dataclass(frozen=True)
class DeployKind:
    label: Mapping[str, str]  # {"ko": …, "en": …}
    check_files: FileCheck  # (target path, package files, "<where>.path") -> problems
    install: Callable[[str, str], list[str]]  # (solution name, target path) -> shell commands in the unpacked package
    kube_version: bool = False  # the target's kubeVersion says which Kubernetes it needs


def deploy_kind(name: str) -> DeployKind:
    kind = DEPLOY_KINDS.get(name)
    if kind is None:
        raise UnknownDeployKind(f"{name!r} is not a deployment kind (known: {', '.join(DEPLOY_KINDS)}).")
    return kind


def install_commands(kind: str, solution: str, path: str) -> list[str]:
    """The shell commands that install a target, run in the unpacked package; every part is quoted
    (``path`` is the vendor's text). Raises UnknownDeployKind for a kind without commands."""
    return deploy_kind(kind).install(solution, path)


def _error(path: str, code: str, message: str, hint: str) -> Problem:
    return Problem("error", code, path, message, hint)


def _unreadable(at: str, code: str, path: str, exc: YamlLoadError) -> Problem:
    return _error(at, code, f"{path}: {exc.message}" + (f" (line {exc.line})" if exc.line else ""), exc.hint)


def check_deploy_target(kind: str, path: str, files: PackageFiles, where: str) -> list[Problem]:
    """Check one target; ``where`` is its manifest path, e.g. ``deploy.targets[1]``.

    Problems point at ``<where>.path`` and carry no line (the validator adds it).
    Raises UnknownDeployKind for a kind outside DEPLOY_KINDS.
    """
    check = deploy_kind(kind).check_files
    at = f"{where}.path"
    try:
        if not files.exists(path):
            return [_error(at, "deploy-path-missing", f"The {kind} target path {path!r} does not exist in the package.",
                           "Fix the path (relative to the package root) or add the files.")]
        return check(path, files, at)
    except UnsafePathError as exc:
        return [_error(at, "path-outside-package", str(exc), "Use a relative path inside the package.")]
    except FileTooLargeError as exc:
        return [_error(at, "file-too-large", str(exc), "Deployment files should be small text files.")]
    except PackageFileError as exc:
        return [_error(at, "deploy-path-missing", str(exc), "Fix the path or add the file.")]


def _check_helm(path: str, files: PackageFiles, at: str) -> list[Problem]:
    if not files.is_dir(path):
        return [_error(at, "helm-chart-missing", f"{path!r} is a file, but a helm target must be a chart directory.",
                       "Point to the directory that holds Chart.yaml (unpack a .tgz chart).")]
    chart_path = f"{path.rstrip('/')}/Chart.yaml"
    if not files.exists(chart_path):
        return [_error(at, "helm-chart-missing", f"The chart directory {path!r} has no Chart.yaml.",
                       "Add Chart.yaml (helm create makes one) or fix the path.")]
    try:
        chart = load_yaml_mapping(files.read(chart_path, CHART_LIMITS.max_bytes), CHART_LIMITS, what="Chart.yaml").value
    except YamlLoadError as exc:
        return [_unreadable(at, "helm-chart-invalid", path, exc)]
    problems: list[Problem] = []
    if chart.get("apiVersion") not in HELM_API_VERSIONS:
        problems.append(_error(at, "helm-chart-invalid", f"{chart_path}: apiVersion must be v1 or v2, not {chart.get('apiVersion')!r}.",
                               "Helm 3 charts use 'apiVersion: v2'."))
    if not isinstance(chart.get("name"), str) or not chart["name"].strip():
        problems.append(_error(at, "helm-chart-invalid", f"{chart_path}: the chart has no name.", "Add 'name: <chart name>'."))
    if not is_semver(chart.get("version")):
        problems.append(_error(at, "helm-chart-invalid", f"{chart_path}: version {chart.get('version')!r} is not SemVer 2.0.",
                               "Use e.g. 'version: 1.2.0' (quoted if it looks like a number)."))
    return problems


def _check_compose(path: str, files: PackageFiles, at: str) -> list[Problem]:
    if files.is_dir(path):
        found = next((f"{path.rstrip('/')}/{name}" for name in COMPOSE_FILE_NAMES if files.exists(f"{path.rstrip('/')}/{name}")), None)
        if found is None:
            return [_error(at, "compose-file-missing", f"The directory {path!r} holds no compose.yaml.",
                           "Point to the compose file itself.")]
        path = found
    try:
        compose = load_yaml_mapping(files.read(path, COMPOSE_LIMITS.max_bytes), COMPOSE_LIMITS, what="compose file").value
    except YamlLoadError as exc:
        return [_unreadable(at, "compose-invalid", path, exc)]
    services = compose.get("services")
    if not isinstance(services, dict) or not services:
        return [_error(at, "compose-no-services", f"{path}: the compose file defines no services.",
                       "Add a 'services:' mapping with at least one service.")]
    problems: list[Problem] = []
    for name, service in services.items():
        if not isinstance(service, dict) or not ("image" in service or "build" in service):
            problems.append(_error(at, "compose-service-invalid", f"{path}: service {name!r} has neither 'image' nor 'build'.",
                                   "Give every service an image (or a build context)."))
    return problems


def _check_kubernetes(path: str, files: PackageFiles, at: str) -> list[Problem]:
    if files.is_dir(path):
        names = [f for f in files.list(path) if f.endswith((".yaml", ".yml"))]
    else:
        names = [path]
    if not names:
        return [_error(at, "kubernetes-no-manifests", f"{path!r} holds no .yaml/.yml files.",
                       "Point to a manifest file or a directory of manifests.")]
    if len(names) > MAX_KUBERNETES_FILES:
        return [_error(at, "kubernetes-no-manifests", f"{path!r} holds more than {MAX_KUBERNETES_FILES} manifest files.",
                       "Point to the directory that holds the manifests only.")]
    problems: list[Problem] = []
    documents = 0
    for name in names:
        try:
            loaded = load_yaml_documents(files.read(name, KUBERNETES_LIMITS.max_bytes), KUBERNETES_LIMITS)
        except YamlLoadError as exc:
            if exc.code == "yaml-empty":
                continue
            problems.append(_unreadable(at, "kubernetes-manifest-invalid", name, exc))
            continue
        for index, document in enumerate(loaded):
            documents += 1
            problems.extend(_check_kubernetes_object(document.value, f"{name} document {index + 1}", at))
    if not documents and not problems:
        return [_error(at, "kubernetes-no-manifests", f"{path!r} holds no Kubernetes objects.",
                       "Add the manifests (apiVersion, kind, metadata, ...).")]
    return problems


def _check_kubernetes_object(value: Any, where: str, at: str) -> list[Problem]:
    if not isinstance(value, dict):
        return [_error(at, "kubernetes-manifest-invalid", f"{where} is not a mapping.", "Each document must be a Kubernetes object.")]
    missing = [key for key in ("apiVersion", "kind") if not isinstance(value.get(key), str) or not value[key]]
    if missing:
        return [_error(at, "kubernetes-manifest-invalid", f"{where} has no {' or '.join(missing)}.",
                       "Every Kubernetes object needs apiVersion and kind.")]
    return []


def _check_vm(path: str, files: PackageFiles, at: str) -> list[Problem]:
    if files.is_dir(path) and not files.list(path):
        return [_error(at, "vm-path-empty", f"The vm target directory {path!r} is empty.",
                       "Point to the install script, cloud-init file or Ansible playbook.")]
    return []


def _install_helm(solution: str, path: str) -> list[str]:
    return [f"helm install {shlex.quote(solution)} ./{shlex.quote(path)}"]


def _install_compose(solution: str, path: str) -> list[str]:
    return [f"docker compose -f {shlex.quote(path)} up -d"]


def _install_kubernetes(solution: str, path: str) -> list[str]:
    return [f"kubectl apply -R -f {shlex.quote(path)}"]


def _install_vm(solution: str, path: str) -> list[str]:
    script = path if path.endswith(".sh") else f"{path.rstrip('/')}/install.sh"
    return [f"sudo sh {shlex.quote(script)}"]


DEPLOY_KINDS: Final[Mapping[str, DeployKind]] = {
    "helm": DeployKind({"ko": "Helm 차트", "en": "Helm chart"}, _check_helm, _install_helm, kube_version=True),
    "compose": DeployKind({"ko": "Docker Compose", "en": "Docker Compose"}, _check_compose, _install_compose),
    "kubernetes": DeployKind({"ko": "쿠버네티스 매니페스트", "en": "Kubernetes manifests"}, _check_kubernetes,
                             _install_kubernetes),
    "vm": DeployKind({"ko": "가상 머신", "en": "Virtual machine"}, _check_vm, _install_vm),
}
DEPLOY_KIND_NAMES: Final = tuple(DEPLOY_KINDS)
KUBE_VERSION_KINDS: Final = tuple(name for name, kind in DEPLOY_KINDS.items() if kind.kube_version)
