"""Fixtures of the registry.spec tests (helpers live in spec_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.spec.catalogue import EntityCatalogue
from tests.spec.spec_support import TEST_CATALOGUE, baseline_files, write_package


@pytest.fixture(scope="session")
def catalogue() -> EntityCatalogue:
    return EntityCatalogue.load(base_path=TEST_CATALOGUE)


@pytest.fixture()
def package_dir(tmp_path: Path) -> Path:
    return write_package(tmp_path / "parking-share", baseline_files())
