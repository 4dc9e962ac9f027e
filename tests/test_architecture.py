"""The house's rules (docs/architecture.md), checked on every run."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"


def test_imports_run_one_way():
    """Domains import downwards only; inside a domain, views/api/cli over services over models."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(CONFIG), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_every_part_of_the_registry_has_its_layer():
    """A new domain (or top-level module) must be placed in the layers, not slip past the contract."""
    config = configparser.ConfigParser()
    config.read(CONFIG)
    layered = set(re.findall(r"registry\.(\w+)", config["importlinter:contract:domains"]["layers"]))
    parts = {p.stem if p.is_file() else p.name for p in (ROOT / "registry").iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert parts - layered == set(), f"add these to .importlinter's domains layers: {sorted(parts - layered)}"
    containers = set(re.findall(r"registry\.(\w+)", config["importlinter:contract:inside-a-domain"]["containers"]))
    domains = {p.name for p in (ROOT / "registry").iterdir() if (p / "models.py").exists() or (p / "service.py").exists()}
    assert domains - containers == set(), f"add these to the inside-a-domain containers: {sorted(domains - containers)}"
