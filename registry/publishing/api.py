"""Upload, read, download and yank releases."""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote

from flask import Blueprint, Response, current_app, redirect, request, send_file
from flask_login import current_user
from sqlalchemy import update

from registry.accounts.auth import current_token, optional_token
from registry.db import write_apart
from registry.errors import InvalidInput, NotFound
from registry.extensions import limiter
from registry.publishing import service
from registry.releases import files as public_files
from registry.releases import service as releases
from registry.releases.models import ArtifactKind, Release, ReleaseState
from registry.releases.serializers import release_json, solution_json
from registry.storage import storage
from registry.storage.base import PUBLIC_CACHE_CONTROL, BlobStorage, blob_key, public_key
from registry.web import PRIVATE, json_body
from registry.web import api_bp as bp

MAX_SIDE_FILE = 256 * 1024
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")

log = logging.getLogger(__name__)
# The public tree's URLs (registry/releases/files.py): nginx serves them from disk; this is the fallback.
files_bp = Blueprint("files", __name__, url_prefix="/files")


def _upload_limit():
    return current_app.config["RATELIMIT_UPLOAD"]


@bp.post("/solutions/<name>/releases")
@limiter.limit(_upload_limit)
def upload_release(name: str):
    token = current_token()  # authenticate before reading the body
    archive = request.files.get("archive")
    if archive is None or not archive.filename:
        raise InvalidInput("send the release archive as the multipart file field 'archive'", field="archive")
    spool = archive.stream
    spool.start_sync()  # the disk writes it while it is inspected; storing it waits for that
    upload = service.Upload(
        archive=spool, archive_sha256=spool.sha256, archive_size=spool.size,
        provenance=_side_file("provenance"), signature=_side_file("signature"),
        declared_sha256=request.form.get("sha256") or None, declared_version=request.form.get("version") or None,
    )
    result = service.publish(token, name, upload)
    status = 201 if result.created else 200
    return {"created": result.created, "release": release_json(result.release, show_checks=True)}, status


def _side_file(field: str) -> bytes | None:
    part = request.files.get(field)
    if part is None:
        return None
    part.stream.seek(0)
    data = part.stream.read(MAX_SIDE_FILE + 1)
    if len(data) > MAX_SIDE_FILE:
        raise InvalidInput(f"{field} is larger than {MAX_SIDE_FILE // 1024} KB", field=field)
    return data


def _visible_release(name: str, version: str) -> Release:
    release = releases.get_release(name, version)
    if not releases.can_see(release, current_user, optional_token()):
        raise NotFound(f"{release.solution.name} has no version {version!r}", field="version")
    return release


@bp.get("/solutions/<name>")
def get_solution(name: str):
    solution = releases.get_solution(name)
    token, user = optional_token(), current_user
    visible = [r for r in solution.releases if releases.can_see(r, user, token)]
    return {"solution": solution_json(solution, visible, lambda r: releases.may_see_checks(r, user, token))}


@bp.get("/solutions/<name>/releases/<version>")
def get_release(name: str, version: str):
    release = _visible_release(name, version)
    return {"release": release_json(release, releases.may_see_checks(release, current_user, optional_token()))}


@bp.get("/solutions/<name>/releases/<version>/<any(archive, sbom, provenance, signature):kind>")
def download_artifact(name: str, version: str, kind: str):
    release = _visible_release(name, version)
    artifact = release.artifact(kind)
    if artifact is None:
        raise NotFound(f"{release.solution.name} {version} has no {kind}", field=kind)
    store = storage()
    local = store.local_path(artifact.sha256)  # first: a blob storage cannot read is a 503, and no download
    response = _handed_off(store, artifact, local) if release.state == ReleaseState.PUBLISHED else None
    if response is None:
        response = send_file(local or store.open(artifact.sha256), mimetype=artifact.media_type, as_attachment=True,
                             download_name=artifact.download_name, etag=artifact.sha256, conditional=True)
    if kind == ArtifactKind.ARCHIVE and response.status_code in (200, 302):  # not a 304 or a range of it
        _after_sent(response, _count_download(release.id))
    if response.status_code != 302:  # a presigned redirect keeps its own, shorter lifetime
        response.headers["Cache-Control"] = _cache_control(release.state)
    response.headers["Digest"] = f"sha-256={_b64_digest(artifact.sha256)}"
    response.headers["Repr-Digest"] = f"sha-256=:{_b64_digest(artifact.sha256)}:"
    if release.state == ReleaseState.YANKED:
        # Header values carry ASCII only: the reason (often Korean) goes percent-encoded UTF-8 in its own header.
        response.headers["Warning"] = '299 - "yanked"'
        response.headers["Yank-Reason"] = quote(release.yank_reason or "", safe=_PRINTABLE_ASCII)
    return response


@files_bp.get("/<path:key>")
def public_file(key: str):
    """/files/ab/cd/<sha256>/<name> when no proxy is in front: the same bytes nginx would send, counted
    after the last byte as the API route counts. Anything but the exact key of a public file is a 404."""
    parts = key.split("/")
    try:
        if len(parts) != 4 or public_key(parts[2], parts[3]) != key:
            raise ValueError(key)
    except ValueError:
        raise NotFound("no such public file", field="path") from None
    found = public_files.find_public(parts[2], parts[3])
    if found is None:
        raise NotFound("no such public file", field="path")
    artifact, release_id = found
    store = storage()
    local = store.local_path(artifact.sha256)
    if local is None and current_app.config["S3_PRESIGNED_DOWNLOADS"]:
        response = redirect(store.presigned_url(artifact.sha256, parts[3], artifact.media_type, PRESIGNED_SECONDS))
        response.headers["Cache-Control"] = REDIRECT_CACHE
    else:
        response = send_file(local or store.open(artifact.sha256), mimetype=artifact.media_type, as_attachment=True,
                             download_name=parts[3], etag=artifact.sha256, conditional=True)
        response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
    if response.status_code in (200, 302) and request.method == "GET":  # as nginx's log is counted: no HEAD
        _after_sent(response, _count_download(release_id))
    response.headers["Repr-Digest"] = f"sha-256=:{_b64_digest(artifact.sha256)}:"
    return response


def _after_sent(response: Response, callback) -> None:
    """Run `callback` once, when the server closes the response, after its last byte.

    A file sent with `send_file` is handed to the server as its own iterable (so gunicorn can use
    sendfile), and the server closes that file wrapper, never the response: the callback goes on the
    wrapper's close too. Everything else closes through the response (`call_on_close`)."""
    ran = threading.Event()

    def once() -> None:
        if not ran.is_set():
            ran.set()
            callback()

    response.call_on_close(once)
    body = response.response
    if response.direct_passthrough and callable(getattr(body, "close", None)):
        close_file = body.close

        def close() -> None:
            try:
                close_file()
            finally:
                once()
        body.close = close


def _count_download(release_id: int):
    """Count the download once the response is closed, after its last byte: the count's commit (an fsync
    on SQLite) never delays the first byte. In SQL, so workers do not race on a read-modify-write; in a
    transaction of its own, so no lock waits on the transfer. A count that cannot be written is logged:
    the download itself succeeded."""
    app = current_app._get_current_object()

    def count() -> None:
        try:
            with app.app_context():
                write_apart(update(Release).where(Release.id == release_id)
                            .values(download_count=Release.download_count + 1))
        except Exception:
            log.exception("download of release %s not counted", release_id)
    return count


# A presigned URL lives this long; a cached redirect to it for less.
PRESIGNED_SECONDS = 900
REDIRECT_CACHE = "public, max-age=300"


def _handed_off(store: BlobStorage, artifact, local: str | None) -> Response | None:
    """A published artifact's bytes sent by the front proxy or the object storage instead of a worker.

    Only published releases: they are public and their bytes immutable. Pending ones must stay
    behind the registry's access check, yanked ones carry a warning on every answer.
    """
    prefix = current_app.config["ACCEL_REDIRECT_PREFIX"]
    if prefix and local:
        response = Response(mimetype=artifact.media_type)
        # nginx serves this internal location itself (deploy/nginx.conf), with Range and ETag.
        response.headers["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + blob_key(artifact.sha256)
        response.headers.set("Content-Disposition", "attachment", filename=artifact.download_name)
        return response
    if current_app.config["S3_PRESIGNED_DOWNLOADS"]:
        url = store.presigned_url(artifact.sha256, artifact.download_name, artifact.media_type, PRESIGNED_SECONDS)
        if url:
            response = redirect(url, 302)
            response.headers["Cache-Control"] = REDIRECT_CACHE
            return response
    return None


def _cache_control(state: str) -> str:
    if state == ReleaseState.PUBLISHED:
        # The bytes behind this URL never change: versions are immutable and blobs content-addressed.
        # A later yank changes the release (its JSON, the Warning header), not these bytes.
        return PUBLIC_CACHE_CONTROL
    if state == ReleaseState.YANKED:
        # Still public, but it may be unyanked (or yanked again): caches keep the bytes yet ask every
        # time (a cheap 304 on the sha256 ETag), so the yank warning is never stale.
        return "public, no-cache"
    # Pending or refused: only its organization and the reviewers may see it, so no cache may keep it.
    return PRIVATE


def _b64_digest(hex_digest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


@bp.post("/solutions/<name>/releases/<version>/yank")
def yank_release(name: str, version: str):
    token = current_token()
    body = json_body()
    release = releases.yank(token, releases.get_release(name, version), str(body.get("reason") or ""))
    return {"release": release_json(release, releases.may_see_checks(release, current_user, token))}


@bp.post("/solutions/<name>/releases/<version>/unyank")
def unyank_release(name: str, version: str):
    token = current_token()
    release = releases.unyank(token, releases.get_release(name, version))
    return {"release": release_json(release, releases.may_see_checks(release, current_user, token))}


@bp.post("/solutions/<name>/state")
def set_solution_state(name: str):
    """Deprecate (with a successor), archive or reactivate a solution; its adopters are told."""
    token = current_token()
    body = json_body()
    state, successor, reason = (_optional_text(body, key) for key in ("state", "successor", "reason"))
    if not state:
        raise InvalidInput("say which state: deprecated, archived or active", field="state")
    solution = releases.get_solution(name)
    releases.set_solution_state_with_token(token, solution, state, successor, reason or "")
    visible = [r for r in solution.releases if releases.can_see(r, current_user, token)]
    return {"solution": solution_json(solution, visible, lambda r: releases.may_see_checks(r, current_user, token))}


def _optional_text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string", field=key)
    return value
