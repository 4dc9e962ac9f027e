"""Fixtures for the SBOM domain: releases made directly with the models, and an app with the SBOM pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.accounts.models import Organization
from registry.db import db, utcnow
from registry.releases.models import Release, Solution
from registry.spec.names import normalize_name
from tests.spec.sbom.realsbom import SBOMS  # noqa: F401  (the domain's tests read the same fixtures)

OSV = Path(__file__).resolve().parent.parent / "fixtures" / "osv"


@pytest.fixture
def make_org(app):
    def _make(slug: str, kind: str = "vendor", name: str | None = None) -> Organization:
        org = db.session.query(Organization).filter_by(slug=slug).one_or_none()
        if org is None:
            org = Organization(slug=slug, name=name or slug.title(), kind=kind)
            db.session.add(org)
            db.session.flush()
        return org

    return _make


@pytest.fixture
def make_release(app, make_org):
    def _make(solution: str, version: str, *, state: str = "published", org: str = "vendor-co") -> Release:
        owner = make_org(org)
        sol = db.session.query(Solution).filter_by(normalized_name=normalize_name(solution)).one_or_none()
        if sol is None:
            sol = Solution(name=solution, normalized_name=normalize_name(solution), org_id=owner.id)
            db.session.add(sol)
            db.session.flush()
        release = Release(solution_id=sol.id, version=version, state=state, manifest={}, sha256="0" * 64, size=1,
                          published_at=utcnow() if state == "published" else None)
        db.session.add(release)
        db.session.flush()
        return release

    return _make


@pytest.fixture
def ingest(app):
    """Parse an SBOM (fixture file name or bytes), store it on the release and evaluate it."""
    from registry.sbom.service import evaluate_release, store_components
    from registry.spec.sbom.parser import parse_sbom

    def _ingest(release: Release, sbom: str | bytes):
        data = (SBOMS / sbom).read_bytes() if isinstance(sbom, str) else sbom
        parsed = parse_sbom(data, filename=sbom if isinstance(sbom, str) else "")
        store_components(release, parsed)
        checks = evaluate_release(release)
        db.session.commit()
        return checks

    return _ingest


@pytest.fixture
def osv_records(app):
    """The hand-written OSV record set, imported."""
    from registry.sbom.osv import import_osv

    return import_osv(OSV / "records")
