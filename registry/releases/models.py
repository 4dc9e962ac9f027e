"""Solutions, their releases and everything recorded when a release is uploaded."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.accounts.models import Organization, SigningKey, User
from registry.db import db, one_of, utcnow
from registry.spec.names import artifact_filename

if TYPE_CHECKING:  # the review domain sits above this one; the relationship names it by string
    from registry.review.models import Review


# States change only through registry/releases/states.py, which holds the transitions between them.
class SolutionState(StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    ARCHIVED = "archived"


class ReleaseState(StrEnum):
    PENDING_REVIEW = "pending_review"
    PUBLISHED = "published"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    YANKED = "yanked"


class ArtifactKind(StrEnum):
    ARCHIVE = "archive"
    PROVENANCE = "provenance"
    SIGNATURE = "signature"
    SBOM = "sbom"


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    # A check run as a job (registry/review/checks.py) is "running" until its result is stored; one that
    # used up its time budget is "timed_out", one that raised is "error" with the exception's one line.
    RUNNING = "running"
    TIMED_OUT = "timed_out"
    ERROR = "error"


class Solution(db.Model):
    __tablename__ = "solutions"
    __table_args__ = (one_of("state", SolutionState),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # Lowercase with - _ . folded, so look-alike names cannot be claimed twice.
    normalized_name: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    state: Mapped[str] = mapped_column(String(16), default=SolutionState.ACTIVE.value)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("solutions.id"))
    # The origin log's name when this solution is a read-only copy imported from another registry.
    mirrored_from: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Organization] = relationship()
    successor: Mapped[Solution | None] = relationship(remote_side=[id])
    releases: Mapped[list[Release]] = relationship(back_populates="solution", cascade="all, delete-orphan")


class Release(db.Model):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("solution_id", "version"), one_of("state", ReleaseState))

    id: Mapped[int] = mapped_column(primary_key=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(24), default=ReleaseState.PENDING_REVIEW.value, index=True)
    manifest: Mapped[dict] = mapped_column(default=dict)
    readme: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signer_key_id: Mapped[int | None] = mapped_column(ForeignKey("signing_keys.id"))
    provenance_repository: Mapped[str | None] = mapped_column(String(500))
    provenance_tag: Mapped[str | None] = mapped_column(String(200))
    provenance_commit: Mapped[str | None] = mapped_column(String(64))
    # A release made after "changes requested" points at the review it answers.
    answers_review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", use_alter=True))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    yank_reason: Mapped[str | None] = mapped_column(Text)
    download_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    solution: Mapped[Solution] = relationship(back_populates="releases")
    uploader: Mapped[User | None] = relationship(foreign_keys=[uploader_id])
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    signer_key: Mapped[SigningKey | None] = relationship()
    artifacts: Mapped[list[Artifact]] = relationship(back_populates="release", cascade="all, delete-orphan")
    checks: Mapped[list[Check]] = relationship(back_populates="release", cascade="all, delete-orphan")
    deploy_targets: Mapped[list[DeployTarget]] = relationship(cascade="all, delete-orphan")
    datahub_requirements: Mapped[list[DataHubRequirement]] = relationship(cascade="all, delete-orphan")
    reviews: Mapped[list[Review]] = relationship("Review", back_populates="release", order_by="Review.id",
                                                 foreign_keys="Review.release_id",
                                                 passive_deletes=True)
    # Read only: the upload sets answers_review_id, and two writable links between the tables would cycle.
    answers_review: Mapped[Review | None] = relationship("Review", foreign_keys=[answers_review_id], viewonly=True)
    file_index: Mapped[ReleaseFileIndex | None] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    def artifact(self, kind: ArtifactKind) -> Artifact | None:
        return next((a for a in self.artifacts if a.kind == kind), None)


class ReleaseFileIndex(db.Model):
    """What is in a release's archive, read once (at upload, or at the first look of a release from
    before the index): its members by path, a list per field (`registry/spec/members.py` `index_columns`). The reviewer's file
    tree and diff list its files from here and read only the members a page shows."""

    __tablename__ = "release_file_indexes"

    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True)
    archive_sha256: Mapped[str] = mapped_column(String(64))  # of the archive it describes
    version: Mapped[int]  # of the columns' format (members.INDEX_VERSION); another version is read again
    members: Mapped[dict] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Artifact(db.Model):
    """A file belonging to a release; the bytes live in blob storage under their sha256."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("release_id", "kind"), one_of("kind", ArtifactKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)

    release: Mapped[Release] = relationship(back_populates="artifacts")

    @property
    def download_name(self) -> str:
        """The name to show and serve: derived afresh, since rows from before the registry named its
        files itself may hold a client-supplied `filename`."""
        return artifact_filename(self.release.solution.name, self.release.version, self.kind, self.media_type)


class Check(db.Model):
    """One automated check of a release: what ran, when, and what it found."""

    __tablename__ = "checks"
    __table_args__ = (one_of("status", CheckStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(default=dict)
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)

    release: Mapped[Release] = relationship(back_populates="checks")


class DeployTarget(db.Model):
    __tablename__ = "deploy_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    path: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict] = mapped_column(default=dict)


class DataHubRequirement(db.Model):
    __tablename__ = "datahub_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    entity_type: Mapped[str] = mapped_column(String(200), index=True)
    type_uri: Mapped[str | None] = mapped_column(String(500))
    access: Mapped[list] = mapped_column(default=list)
    attributes: Mapped[list] = mapped_column(default=list)


Index("ix_releases_sha256", Release.sha256)
