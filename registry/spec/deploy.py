"""Checks of the files behind ``deploy.targets``: enough to catch a wrong path or
a broken chart/compose/manifest before a municipality tries to install it, not
a full Helm/Compose/Kubernetes validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from registry.spec.files import FileTooLargeError, PackageFileError, PackageFiles, UnsafePathError
from registry.spec.problems import Problem
from registry.spec.ranges import is_semver
from registry.spec.yamlload import YamlLimits, YamlLoadError, load_yaml_documents, load_yaml_mapping

CHART_LIMITS = YamlLimits(max_bytes=256 * 1024)
COMPOSE_LIMITS = YamlLimits(max_bytes=1024 * 1024)
KUBERNETES_LIMITS = YamlLimits(max_bytes=4 * 1024 * 1024)
MAX_KUBERNETES_FILES = 500
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
HELM_API_VERSIONS = ("v1", "v2")


def _error(path: str, code: str, message: str, hint: str) -> Problem:
    return Problem("error", code, path, message, hint)


def check_deploy_target(kind: str, path: str, files: PackageFiles, where: str) -> list[Problem]:
    """Check one target; ``where`` is its manifest path, e.g. ``deploy.targets[1]``.

    Problems point at ``<where>.path`` and carry no line (the validator adds it).
    """
    at = f"{where}.path"
    try:
        if not files.exists(path):
            return [_error(at, "deploy-path-missing", f"The {kind} target path {path!r} does not exist in the package.",
                           "Fix the path (relative to the package root) or add the files.")]
        check = _CHECKS.get(kind)
        return check(path, files, at) if check else []
    except UnsafePathError as exc:
        return [_error(at, "path-outside-package", str(exc), "Use a relative path inside the package.")]
    except FileTooLargeError as exc:
        return [_error(at, "file-too-large", str(exc), "Deployment files should be small text files.")]
    except YamlLoadError as exc:
        code = "helm-chart-invalid" if kind == "helm" else "compose-invalid"
        return [_error(at, code, f"{path}: {exc.message}" + (f" (line {exc.line})" if exc.line else ""), exc.hint)]
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
    chart = load_yaml_mapping(files.read(chart_path, CHART_LIMITS.max_bytes), CHART_LIMITS, what="Chart.yaml").value
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
    compose = load_yaml_mapping(files.read(path, COMPOSE_LIMITS.max_bytes), COMPOSE_LIMITS, what="compose file").value
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
            problems.append(_error(at, "kubernetes-manifest-invalid",
                                   f"{name}: {exc.message}" + (f" (line {exc.line})" if exc.line else ""), exc.hint))
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


_CHECKS: dict[str, Callable[[str, PackageFiles, str], list[Problem]]] = {
    "helm": _check_helm,
    "compose": _check_compose,
    "kubernetes": _check_kubernetes,
    "vm": _check_vm,
}
