"""What municipalities record: their data hub, what they deployed, what they follow."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.accounts.models import Organization
from registry.db import db, utcnow
from registry.publishing.models import Release, Solution

ADOPTION_STAGES = ("piloting", "production", "retired")


class Adoption(db.Model):
    __tablename__ = "adoptions"
    __table_args__ = (UniqueConstraint("org_id", "release_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"), index=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    deployed_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Organization] = relationship()
    solution: Mapped[Solution] = relationship()
    release: Mapped[Release] = relationship()


class DataHubProfile(db.Model):
    __tablename__ = "datahub_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    spec_version: Mapped[str | None] = mapped_column(String(32))
    # [{"type", "typeUri", "attributes": [...], "access": [...]}]
    entity_types: Mapped[list] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    org: Mapped[Organization] = relationship()


class Subscription(db.Model):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "solution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
