"""A rehearsal of the upload path before a worker takes traffic, that leaves nothing behind.

What a fresh process's first upload pays beyond a warm one (cProfile of the first against the second
upload in one process, after registry/ops/warmup.py): the compilation of the upload's SQL statements
(SQLAlchemy fills each engine's compiled cache on first execution: the token and solution lookups,
the lazy loads of the token's user, organization and memberships, the INSERTs of the write
transaction, the serializer's reads), the type and dialect caches those fill, and the ORM's first
flush of each mapper. All of it is memory of the process, not of a connection: run in gunicorn's
master (preload_app), the forked workers inherit it with the engine objects, whose pools
deploy/gunicorn.conf.py `post_fork` replaces.

`rehearse_upload(app)` runs the real service functions on a small package built here, in one
write transaction that is always rolled back:

* the token, its user, organization and membership it authenticates with are rows of that
  transaction only (the token already "used" now, so no bookkeeping write goes apart);
* both ways an upload writes: the first release of a new solution, then a second release of it;
* no blob is stored (storage is never called), the archive is read from memory (no spool file),
  the events the upload emits are rows of the rolled-back transaction and are never dispatched,
  so nothing reaches the job queue; the audit row goes with the rollback, and an upload makes no
  transparency leaf.

On SQLite the transaction holds the write lock from its first statement to the rollback: only the
writes are in it (the package is read and checked before), a few tens of milliseconds once per
start. Any failure (an unmigrated database, a database that does not answer) is logged as a warning
and the start goes on: the first upload is then merely slower.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import secrets
import tarfile
import time

from flask import Flask

log = logging.getLogger("registry.rehearsal")

_VERSIONS = ("0.0.1", "0.0.2")
_MANIFEST = """\
manifestVersion: "1"
name: {name}
version: {version}
title: {{ko: 시작 리허설, en: Start-up rehearsal}}
summary: {{ko: 기록되지 않는 업로드, en: An upload that is never recorded}}
description: {{ko: 시작할 때 한 번, en: Once at start-up}}
categories: [mobility]
developmentStatus: stable
funding: {{programme: other, year: 2024, municipality: rehearsal}}
legal: {{license: Apache-2.0, copyrightOwner: rehearsal}}
maintenance:
  type: internal
  contacts: [{{name: rehearsal, email: rehearsal@example.org}}]
source: {{repository: https://rehearsal.invalid/{name}}}
dataHub:
  api: ngsi-ld
  specVersion: ">=1.6.1"
  entities:
    - type: OffStreetParking
      access: [read]
      attributes: [{{name: availableSpotNumber, attributeType: Property, valueType: Number}}]
    - type: ParkingSpot
      access: [read, write]
      attributes: [{{name: status, attributeType: Property, valueType: Text}}]
deploy:
  targets: [{{kind: helm, path: deploy/helm/{name}}}, {{kind: compose, path: deploy/compose.yaml}}]
sbom: sbom.cdx.json
"""
_COMPOSE = "services:\n  app:\n    image: registry.example/{name}:{version}\n"
_CHART = "apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"{version}\"\n"
# Two of each repeated row (targets, entities, components): one row and several are different statements.
_COMPONENTS = (("flask", "3.0.3", "BSD-3-Clause"), ("requests", "2.31.0", "Apache-2.0"))


def _sbom(name: str, version: str) -> bytes:
    return json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"type": "application", "name": name, "version": version, "bom-ref": "root"}},
        "components": [{"type": "library", "name": n, "version": v, "bom-ref": f"pkg:pypi/{n}@{v}",
                        "purl": f"pkg:pypi/{n}@{v}", "licenses": [{"license": {"id": lic}}]} for n, v, lic in _COMPONENTS],
        "dependencies": [{"ref": "root", "dependsOn": [f"pkg:pypi/{n}@{v}" for n, v, _ in _COMPONENTS]}],
    }).encode()


def rehearsal_package(name: str, version: str) -> bytes:
    """A small valid package (.tar.gz) of `name` `version`, built in memory."""
    files = {"solution.yaml": _MANIFEST.format(name=name, version=version).encode(),
             "README.md": f"# {name}\n".encode(),
             "deploy/compose.yaml": _COMPOSE.format(name=name, version=version).encode(),
             f"deploy/helm/{name}/Chart.yaml": _CHART.format(name=name, version=version).encode(),
             "sbom.cdx.json": _sbom(name, version)}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(f"{name}-{version}/{path}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def rehearse_upload(app: Flask) -> float | None:
    """Rehearse two uploads in a rolled-back transaction; the seconds it took, or None if it failed
    (logged as a warning: the worker starts all the same). Off with REGISTRY_UPLOAD_REHEARSAL=false."""
    from registry.db import db

    if not app.config["UPLOAD_REHEARSAL"]:
        return None
    start = time.perf_counter()
    began: list[float] = []
    try:
        with app.test_request_context("/api/v1/solutions/rehearsal/releases", method="POST"):
            try:
                _rehearse(began)
            finally:
                _leave_nothing(db)
                ended = time.perf_counter()
        log.info("upload path rehearsed in %.0f ms, of which %.0f ms in the write transaction (rolled back)",
                 (ended - start) * 1000, (ended - began[0]) * 1000)
        return ended - start
    except Exception as exc:  # noqa: BLE001 - a rehearsal that fails must never stop the start
        log.warning("upload rehearsal skipped, the first upload will be slower: %s",
                    (str(exc).splitlines() or [type(exc).__name__])[0])
        return None
    finally:
        _disconnect(app)


def _disconnect(app: Flask) -> None:
    """The master keeps no connection: the workers open their own (deploy/gunicorn.conf.py post_fork).
    Disposing keeps each engine's compiled cache, which is what the workers inherit."""
    from registry.db import db

    try:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()
    except Exception as exc:  # noqa: BLE001
        log.warning("upload rehearsal: could not close its connections: %s", exc)


def _leave_nothing(db) -> None:
    from registry import events

    db.session.rollback()
    events.discard_emitted()  # the events it emitted went with the rollback: nothing is dispatched or enqueued
    db.session.remove()


def _rehearse(began: list[float]) -> None:
    from sqlalchemy import update

    from registry.accounts.models import ApiToken, MemberRole, Membership, Organization, OrgKind, User
    from registry.accounts.service import TOKEN_PREFIX, require_scope, token_from_header
    from registry.db import begin_write, db, utcnow
    from registry.publishing import service
    from registry.publishing.signatures import verify_provenance
    from registry.releases.inspection import inspect_archive
    from registry.releases.serializers import release_json
    from registry.releases.service import find_solution
    from registry.spec.members import index_columns

    tag = secrets.token_hex(6)
    name = f"rehearsal-{tag}"
    # Read and checked before the transaction, as a real upload is: no lock is held meanwhile.
    prepared = []
    for version in _VERSIONS:
        data = rehearsal_package(name, version)
        upload = service.Upload(archive=io.BytesIO(data), archive_sha256=hashlib.sha256(data).hexdigest(),
                                archive_size=len(data))
        inspected = inspect_archive(upload.archive)
        prepared.append((version, upload, inspected, index_columns(inspected.contents)))

    began.append(time.perf_counter())
    begin_write()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    org = Organization(slug=f"rehearsal-{tag}", name=f"rehearsal {tag}", kind=OrgKind.VENDOR)
    user = User(username=f"rehearsal-{tag}", email=f"rehearsal-{tag}@rehearsal.invalid", password_hash="!")
    db.session.add_all([org, user, Membership(user=user, org=org, role=MemberRole.OWNER),
                        ApiToken(user=user, org=org, prefix=raw[:12], token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                                 scopes=["publish"], last_used_at=utcnow())])
    db.session.flush()
    db.session.expunge_all()  # a request's session starts empty: what follows loads as a request does

    token = token_from_header(f"Bearer {raw}")
    # The token's last-use bookkeeping (a write apart in a real request), here on the transaction's connection.
    db.session.connection().execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=utcnow()))
    for version, upload, inspected, files in prepared:
        found = find_solution(name)
        require_scope(token, "publish", org_id=found.org_id if found else token.org_id, solution=name)
        if found is not None:
            service._identical_release(found, upload)
        provenance = verify_provenance(token.org, inspected.manifest["name"], version, upload.archive_sha256,
                                       upload.provenance, upload.signature)
        artifacts, _ = service._artifacts(upload, inspected.manifest, version, provenance.statement,
                                          inspected.sbom_file, inspected.sbom.media_type)
        release = service.record_upload(token, found, name, version, upload, inspected, provenance, artifacts,
                                        files)
        db.session.expire_all()  # as the commit would: the answer reads the release back
        release_json(release, show_checks=True)
