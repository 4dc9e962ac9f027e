"""The public tree: every file of a public release at an immutable, content-addressed URL.

`/files/ab/cd/<sha256>/<name>` (what files.pythonhosted.org is to PyPI): the front proxy serves it
straight from disk (local storage: a tree of hard links, REGISTRY_PUBLIC_FILES_PATH) or the object
storage from its bucket (prefix `files/`), without a worker, a lookup or a database. The registry's
own `/files/` route (registry/publishing/api.py) answers the same URLs when nothing is in front.

What is in the tree follows the release's state, and nothing else: published and yanked releases are
public (a yank warns, the bytes stay downloadable), every other state never is. `sync_release` runs
as the `public_files` handler of every release state event (registry/handlers.py), after the commit;
`sync_all` (`flask --app registry storage public-tree`) rebuilds the tree from the database, adding what a
lost job missed and removing what belongs to no public release any more.
"""

from __future__ import annotations

import logging

from flask import current_app, url_for
from sqlalchemy import select

from registry.db import db
from registry.releases.models import Artifact, Release, ReleaseState, Solution
from registry.releases.states import VISIBLE_TO_PUBLIC
from registry.spec.names import artifact_filename
from registry.storage import storage
from registry.storage.base import public_key

log = logging.getLogger(__name__)


def file_key(artifact: Artifact) -> str:
    return public_key(artifact.sha256, artifact.download_name)


def public_url(artifact: Artifact, external: bool = True) -> str:
    """The file's public URL: below REGISTRY_PUBLIC_FILES_URL when set (a CDN, the bucket), else the
    registry's own /files/ (nginx, or the fallback route)."""
    base = current_app.config["PUBLIC_FILES_URL"]
    key = file_key(artifact)
    if base:
        return base.rstrip("/") + "/" + key
    return url_for("files.public_file", key=key, _external=external)


def download_url(release: Release, kind: str, external: bool = True) -> str | None:
    """Where a client downloads the release's `kind`: the public URL of a published release; the API
    route otherwise (pending ones behind its access check, yanked ones with its warning headers).
    `external=False`: a path when the link stays on the registry (pages)."""
    artifact = release.artifact(kind)
    if artifact is None:
        return None
    if release.state == ReleaseState.PUBLISHED:
        return public_url(artifact, external)
    return url_for("api.download_artifact", name=release.solution.name, version=release.version, kind=kind,
                   _external=external)


def sync_release(release_id: int) -> dict:
    """Put the release's files into the public tree when it is public, take them out when it is not."""
    release = db.session.get(Release, release_id)
    if release is None:
        return {"added": 0, "removed": 0}  # gone with its rows: `sync_all` removes what it left
    store, added, removed = storage(), 0, 0
    for artifact in release.artifacts:
        if release.state in VISIBLE_TO_PUBLIC:
            added += store.publish(artifact.sha256, artifact.download_name, artifact.media_type)
        else:
            removed += store.unpublish(file_key(artifact))
    if added or removed:
        log.info("public tree: %s %s +%d -%d", release.solution.name, release.version, added, removed)
    return {"added": added, "removed": removed}


def _public_files() -> dict[str, Artifact]:
    rows = db.session.scalars(select(Artifact).join(Release, Artifact.release_id == Release.id).where(Release.state.in_(VISIBLE_TO_PUBLIC)))
    return {file_key(artifact): artifact for artifact in rows}


def sync_all() -> dict:
    """The whole tree made to match the database: missing files added, stray ones removed."""
    store, wanted = storage(), _public_files()
    present = set(store.public_keys())
    added = sum(store.publish(a.sha256, a.download_name, a.media_type) for key, a in wanted.items()
                if key not in present)
    removed = sum(store.unpublish(key) for key in present - set(wanted))
    return {"added": added, "removed": removed, "files": len(wanted)}


def find_public(digest: str, filename: str) -> tuple[Artifact, int] | None:
    """The public artifact a /files/ URL names, and its release's id; None for anything else (a draft's,
    a refused release's, a name that is not the one the registry gave those bytes)."""
    rows = db.session.execute(
        select(Artifact, Release.id, Release.version, Solution.name)
        .join(Release, Artifact.release_id == Release.id).join(Solution, Release.solution_id == Solution.id)
        .where(Artifact.sha256 == digest, Release.state.in_(VISIBLE_TO_PUBLIC)))
    for artifact, release_id, version, name in rows:
        if artifact_filename(name, version, artifact.kind, artifact.media_type) == filename:
            return artifact, release_id
    return None


def releases_by_key(keys: set[str]) -> dict[str, int]:
    """Public keys -> the id of the release each belongs to (keys of nothing public are left out)."""
    digests = {key.split("/")[2] for key in keys}
    found: dict[str, int] = {}
    rows = db.session.execute(
        select(Artifact.sha256, Artifact.kind, Artifact.media_type, Release.id, Release.version, Solution.name)
        .join(Release, Artifact.release_id == Release.id).join(Solution, Release.solution_id == Solution.id)
        .where(Artifact.sha256.in_(digests), Release.state.in_(VISIBLE_TO_PUBLIC)))
    for digest, kind, media_type, release_id, version, name in rows:
        key = public_key(digest, artifact_filename(name, version, kind, media_type))
        if key in keys:
            found[key] = release_id
    return found
