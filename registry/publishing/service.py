"""Publishing: from an uploaded archive to a pending release, and the release lifecycle.

The path of one upload: authorise -> idempotency fast path -> inspect the package (archive read
safely, manifest validated, SBOM parsed: the inspection `solreg check` runs too) -> verify
provenance and signature -> store blobs (content-addressed) -> one short transaction records everything plus an audit event.
Nothing before that transaction writes to the database, so no lock is held while the
archive is read, hashed and validated.
Any failure leaves nothing behind: the transaction rolls back and blobs this upload added
are removed again.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from registry.accounts.models import ApiToken
from registry.accounts.service import require_scope
from registry.audit import service as audit
from registry.db import begin_write, db
from registry.errors import Conflict, InvalidInput, Unprocessable
from registry.publishing.signatures import verify_provenance
from registry.releases.inspection import inspect_archive
from registry.releases.models import (
    Artifact,
    ArtifactKind,
    DataHubRequirement,
    DeployTarget,
    Release,
    Solution,
    SolutionState,
)
from registry.releases.service import find_solution, refuse_mirrored
from registry.releases.versions import same_precedence
from registry.review.checks import record_upload_checks, start_job_checks
from registry.review.files import file_index
from registry.review.models import Review, ReviewDecision
from registry.sbom.service import store_components
from registry.spec.members import index_columns
from registry.spec.names import (
    SOLUTION_NAME_RULE,
    artifact_filename,
    is_solution_name,
    normalize_name,
)
from registry.storage import StorageError, storage

log = logging.getLogger(__name__)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Upload:
    archive: BinaryIO
    archive_sha256: str
    archive_size: int
    provenance: bytes | None = None
    signature: bytes | None = None
    declared_sha256: str | None = None
    declared_version: str | None = None


@dataclass
class PublishResult:
    release: Release
    created: bool


def publish(token: ApiToken, name: str, upload: Upload) -> PublishResult:
    _check_declared(name, upload)
    solution = find_solution(name)
    require_scope(token, "publish", org_id=solution.org_id if solution else token.org_id, solution=name)
    if solution is not None:
        refuse_mirrored(solution)
        if solution.state == SolutionState.ARCHIVED:
            raise Conflict(f"{solution.name} is archived and takes no new releases", code="solution-archived")
        identical = _identical_release(solution, upload)
        if identical is not None:
            return PublishResult(identical, created=False)

    inspected = inspect_archive(upload.archive)
    files = index_columns(inspected.contents)  # before the write lock: it looks into every member
    version = _new_version(inspected.manifest, name, solution, upload)
    provenance = verify_provenance(token.org, inspected.manifest["name"], version, upload.archive_sha256,
                                   upload.provenance, upload.signature)
    parsed_sbom = inspected.sbom  # parsed and schema-checked by the shared inspection
    artifacts, blobs = _artifacts(upload, inspected.manifest, version, provenance.statement, inspected.sbom_file,
                                  parsed_sbom.media_type)

    created_blobs: list[str] = []
    try:
        for fileobj, digest in blobs:
            if storage().put(fileobj, digest):
                created_blobs.append(digest)
        for attempt in (1, 2):
            try:
                release = _write_release(token, solution, name, version, upload, inspected, provenance, artifacts,
                                         files)
                break
            except IntegrityError:
                db.session.rollback()
                if attempt == 2 or solution is not None or (solution := find_solution(name)) is None:
                    raise Conflict(f"{name} {version} was published by a concurrent upload; versions are immutable",
                                   field="version", code="version-exists") from None
                # Two first uploads of a new solution at once, and the other one created it: write beside it.
                require_scope(token, "publish", org_id=solution.org_id, solution=name)
                artifacts, _ = _artifacts(upload, inspected.manifest, version, provenance.statement,
                                          inspected.sbom_file, parsed_sbom.media_type)
    except BaseException:
        db.session.rollback()
        _remove_unreferenced(created_blobs)
        raise
    return PublishResult(release, created=True)


def _write_release(token: ApiToken, solution: Solution | None, name: str, version: str, upload: Upload, inspected,
                   provenance, artifacts: list[Artifact], files: dict[str, list]) -> Release:
    """The upload's one short write transaction (everything before it only read), audit record last.
    The heavy checks are not run here: they get `running` rows and run as a job after the commit
    (registry/review/checks.py)."""
    release = record_upload(token, solution, name, version, upload, inspected, provenance, artifacts, files)
    db.session.commit()
    return release


def record_upload(token: ApiToken, solution: Solution | None, name: str, version: str, upload: Upload, inspected,
                  provenance, artifacts: list[Artifact], files: dict[str, list]) -> Release:
    """Everything the upload's write transaction writes, flushed, not committed: `_write_release` commits it,
    the start-up rehearsal (registry/ops/rehearsal.py) rolls it back."""
    begin_write()
    if solution is not None:
        # Uploads of one solution take turns from here on, so the version check sees every version
        # committed meanwhile (1.1.0 and 1.1.0+x at once) and reindexing the solution cannot deadlock.
        db.session.execute(select(Solution.id).where(Solution.id == solution.id).with_for_update(key_share=True))
        _new_version(inspected.manifest, name, solution, upload)
    release = _record_release(token, solution, name, version, inspected, provenance, artifacts, files)
    store_components(release, inspected.sbom)
    audit.record("release.upload", actor=token.user, org_id=token.org_id, solution_id=release.solution_id,
                 details={"version": version, "sha256": upload.archive_sha256,
                          "signed_by": provenance.signer.keyid if provenance.signer else None})
    return release


def _check_declared(name: str, upload: Upload) -> None:
    if not is_solution_name(normalize_name(name)):
        raise InvalidInput(f"{name!r} is not a valid solution name ({SOLUTION_NAME_RULE})",
                           field="name")
    if upload.declared_sha256 is not None:
        if not SHA256_RE.match(upload.declared_sha256.lower()):
            raise InvalidInput("sha256 must be 64 hex digits", field="sha256")
        if upload.declared_sha256.lower() != upload.archive_sha256:
            raise InvalidInput("the archive's sha256 differs from the one declared; the upload was damaged, "
                               "send it again", field="sha256", code="digest-mismatch")


def _identical_release(solution: Solution, upload: Upload) -> Release | None:
    """The release these very bytes already made (an idempotent retry), if any."""
    return db.session.scalar(select(Release).where(Release.solution_id == solution.id,
                                                   Release.sha256 == upload.archive_sha256))


def _new_version(manifest: dict, name: str, solution: Solution | None, upload: Upload) -> str:
    if normalize_name(manifest["name"]) != normalize_name(name):
        raise Unprocessable(f"solution.yaml names {manifest['name']!r} but the upload is for {name!r}", field="name",
                            code="name-mismatch")
    version = str(manifest["version"])
    if upload.declared_version is not None and upload.declared_version != version:
        raise Unprocessable(f"solution.yaml says version {version} but {upload.declared_version} was declared",
                            field="version", code="version-mismatch")
    existing = same_precedence(db.session.scalars(select(Release.version).where(Release.solution_id == solution.id)),
                               version) if solution is not None else None
    if existing == version:
        raise Conflict(f"{solution.name} {version} already exists with different content; versions are immutable, "
                       "publish a new version", field="version", code="version-exists")
    if existing is not None:
        raise Conflict(f"{version} has the same precedence as {existing}, which exists: build metadata (+…) does not "
                       "make a new version; publish a new version", field="version", code="version-exists")
    return version


def _artifacts(upload: Upload, manifest: dict, version: str, statement: bytes | None,
               sbom_file: BinaryIO, sbom_media_type: str) -> tuple[list[Artifact], list[tuple[BinaryIO, str]]]:
    """The release's artifact rows and the blobs behind them (archive first), named by the registry."""

    def artifact(kind: ArtifactKind, digest: str, size: int) -> Artifact:
        media_type = _media_type(kind, sbom_media_type)
        return Artifact(kind=kind, filename=artifact_filename(manifest["name"], version, kind, media_type),
                        media_type=media_type, sha256=digest, size=size)

    artifacts = [artifact(ArtifactKind.ARCHIVE, upload.archive_sha256, upload.archive_size)]
    blobs: list[tuple[BinaryIO, str]] = [(upload.archive, upload.archive_sha256)]
    small = ((ArtifactKind.PROVENANCE, statement), (ArtifactKind.SIGNATURE, upload.signature))
    for kind, fileobj in (*((kind, io.BytesIO(data)) for kind, data in small if data is not None),
                          (ArtifactKind.SBOM, sbom_file)):
        fileobj.seek(0)
        digest = hashlib.file_digest(fileobj, "sha256").hexdigest()  # a large SBOM is read a part at a time
        blobs.append((fileobj, digest))
        artifacts.append(artifact(kind, digest, fileobj.seek(0, io.SEEK_END)))  # file_digest may not move it
    return artifacts, blobs


def _record_release(token: ApiToken, solution: Solution | None, name: str, version: str, inspected,
                    provenance, artifacts: list[Artifact], files: dict[str, list]) -> Release:
    """Add the release (and, on a first upload, the solution it claims) to the session, with its checks
    and its file index (`files`, registry/spec/members.py `index_columns`)."""
    manifest = inspected.manifest
    answers_review_id = _open_change_request(solution) if solution is not None else None
    if solution is None:
        solution = Solution(name=manifest["name"], normalized_name=normalize_name(name), org_id=token.org_id)
        db.session.add(solution)
    info = provenance.info
    release = Release(solution=solution, version=version, manifest=manifest, readme=inspected.readme,
                      sha256=artifacts[0].sha256, size=artifacts[0].size, uploader_id=token.user_id,
                      signer_key_id=provenance.signer.id if provenance.signer else None, artifacts=artifacts,
                      answers_review_id=answers_review_id,
                      provenance_repository=info.repository if info else None,
                      provenance_tag=info.tag if info else None,
                      provenance_commit=info.commit if info else None)
    _record_requirements(release, manifest)
    release.file_index = file_index(release, files)
    db.session.add(release)
    job_checks = record_upload_checks(release, inspected, provenance)
    db.session.flush()
    start_job_checks(release, job_checks)
    return release


def _media_type(kind: ArtifactKind, sbom_media_type: str) -> str:
    if kind == ArtifactKind.SBOM:
        return sbom_media_type  # the format found in its content, whatever the file is called
    return {ArtifactKind.ARCHIVE: "application/gzip", ArtifactKind.PROVENANCE: "application/vnd.in-toto+json",
            ArtifactKind.SIGNATURE: "application/vnd.dsse.envelope.v1+json"}[kind]


def _record_requirements(release: Release, manifest: dict) -> None:
    for target in (manifest.get("deploy") or {}).get("targets") or []:
        release.deploy_targets.append(DeployTarget(kind=target["kind"], path=target["path"],
                                                   details={k: v for k, v in target.items() if k not in ("kind", "path")}))
    for entity in (manifest.get("dataHub") or {}).get("entities") or []:
        release.datahub_requirements.append(DataHubRequirement(
            entity_type=entity["type"], type_uri=entity.get("typeUri"), access=list(entity.get("access") or []),
            attributes=list(entity.get("attributes") or [])))


def _open_change_request(solution: Solution) -> int | None:
    """A release uploaded after 'changes requested' answers the latest such review."""
    return db.session.scalar(
        select(Review.id).join(Release, Review.release_id == Release.id)
        .where(Release.solution_id == solution.id, Review.decision == ReviewDecision.REQUEST_CHANGES)
        .order_by(Review.id.desc()).limit(1))


def _remove_unreferenced(digests: list[str]) -> None:
    for digest in digests:
        if not db.session.scalar(select(func.count(Artifact.id)).where(Artifact.sha256 == digest)):
            try:
                storage().delete(digest)
            except StorageError as exc:  # the client hears the upload's own failure; `flask storage gc` removes it
                log.warning("blob %s left behind by a failed upload: %s", digest, exc.detail)
