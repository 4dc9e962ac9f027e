"""pyproject.toml declares what the code imports, and solreg runs without the server's stack.

Where an import may be declared: the registry (registry/) in the core dependencies or the
production extras; registry.spec, which solreg imports, in the core; solreg (publisher_cli/)
in the core or `cli`; tests, benchmarks and the samples' tests anywhere.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
FIRST_PARTY = {"registry", "publisher_cli", "tests", "bench"}
SCRIPT_FOLDERS = ("tests", "bench", "sample_solutions")

# Declared but never imported by name: each is loaded at run time by something else.
LOADED_BY_NAME = {
    "gunicorn": "the production app server, a command",
    "psycopg": "SQLAlchemy's PostgreSQL driver, chosen by REGISTRY_DATABASE_URL",
    "redis": "huey's and Flask-Limiter's Redis engine, chosen by REGISTRY_QUEUE_URL and REGISTRY_RATELIMIT_STORAGE_URI",
}

# What solreg must never load: the web application's stack and the production services.
SERVER_ONLY = {"flask", "flask-sqlalchemy", "flask-migrate", "flask-login", "flask-wtf", "flask-babel", "flask-limiter",
               "werkzeug", "wtforms", "sqlalchemy", "alembic", "gunicorn", "psycopg", "boto3", "botocore", "huey", "redis"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return canonical(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))


def declared(*groups: str) -> set[str]:
    """Distributions named in the core dependencies ("") and the given extras; self-references left out."""
    requirements = [r for group in groups
                    for r in (PROJECT["dependencies"] if group == "" else PROJECT["optional-dependencies"][group])]
    return {requirement_name(r) for r in requirements} - {canonical(PROJECT["name"])}


@lru_cache(maxsize=None)
def local_names() -> frozenset[str]:
    """Modules a script, test or conftest may import by putting one of these folders on sys.path."""
    roots = [ROOT / folder for folder in SCRIPT_FOLDERS]
    return frozenset({p.stem for root in roots for p in root.rglob("*.py")}
                     | {p.name for root in roots for p in root.rglob("*") if p.is_dir()})


def third_party_imports(folder: str) -> dict[str, set[str]]:
    """Top-level module imported -> the files importing it (function-level and TYPE_CHECKING imports included)."""
    found: dict[str, set[str]] = {}
    root = ROOT / folder
    local = local_names() if folder in SCRIPT_FOLDERS else frozenset()
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top in sys.stdlib_module_names or top in FIRST_PARTY or top in local or top == "__future__":
                    continue
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@lru_cache(maxsize=None)
def installed_modules() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions_of(module: str) -> set[str]:
    """The distributions providing a top-level module; one not installed here (an extra such as
    `bench`) is taken to be the distribution of the same name."""
    return {canonical(d) for d in installed_modules().get(module, [module])}


EVERY_GROUP = ("", *PROJECT["optional-dependencies"])
CODE = [  # folder, where its imports may be declared
    ("registry", ("", "server", "s3")),
    ("registry/spec", ("",)),
    ("publisher_cli", ("", "cli")),
    *((folder, EVERY_GROUP) for folder in SCRIPT_FOLDERS),
]


@pytest.mark.parametrize("folder, groups", CODE, ids=[folder for folder, _ in CODE])
def test_every_import_is_declared(folder: str, groups: tuple[str, ...]) -> None:
    allowed = declared(*groups)
    undeclared = {}
    for module, files in third_party_imports(folder).items():
        distributions = distributions_of(module)
        if not distributions & allowed:
            undeclared[module] = (sorted(distributions), sorted(files)[:3])
    where = " or ".join(f"[{g}]" if g else "dependencies" for g in groups)
    assert not undeclared, f"imported under {folder}/ but not declared in {where}: {undeclared}"


def test_every_runtime_dependency_is_used() -> None:
    imported = {d for folder in ("registry", "publisher_cli")
                for module in third_party_imports(folder) for d in distributions_of(module)}
    runtime = declared("", "server", "s3", "cli")
    assert runtime - imported - set(LOADED_BY_NAME) == set(), "declared, never imported: remove it or say who loads it"


def test_the_test_extra_installs_every_runtime_extra() -> None:
    assert f"{PROJECT['name']}[server,s3,cli]" in PROJECT["optional-dependencies"]["test"]


def test_solreg_loads_nothing_of_the_server(tmp_path: Path) -> None:
    """Every module of solreg and registry.spec imported, then a whole `solreg check` of a tagged sample."""
    solution = tmp_path / "parking-share"
    shutil.copytree(ROOT / "sample_solutions" / "parking-share", solution,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "dist"))
    version = yaml.safe_load((solution / "solution.yaml").read_text(encoding="utf-8"))["version"]
    git = ["git", "-C", str(solution), "-c", "user.name=검토자", "-c", "user.email=reviewer@example.org",
           "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "--all"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", f"주차 공유 {version}"], check=True)
    subprocess.run([*git, "tag", f"v{version}"], check=True)
    script = """
import importlib, json, pkgutil, sys
import publisher_cli, registry.spec
for package in (publisher_cli, registry.spec):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
from publisher_cli.main import main
try:
    main(["check", sys.argv[1]])
except SystemExit as exit_:
    code = exit_.code
print(json.dumps({"code": code, "modules": sorted({name.partition(".")[0] for name in sys.modules})}))
"""
    run = subprocess.run([sys.executable, "-c", script, str(solution)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["code"] == 0, run.stdout
    loaded = {d for module in result["modules"] for d in distributions_of(module)}
    assert loaded & SERVER_ONLY == set(), "solreg loaded part of the server"
    assert "rich" in loaded and "gitpython" in loaded  # the check really ran: its table and its git state
