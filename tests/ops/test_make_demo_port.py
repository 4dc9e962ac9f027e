"""`make demo PORT=…` serves on that port (the Makefile passes it to `flask demo --port`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_passes_the_port_to_the_demo_command():
    dry_run = subprocess.run(["make", "--no-print-directory", "-n", "-C", str(ROOT), "demo", "PORT=5055", "VENV=.venv"],
                             capture_output=True, text=True, check=True).stdout
    assert "demo --serve --port 5055" in dry_run
