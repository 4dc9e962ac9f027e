"""Reviewers' decisions and the reusable reasons they pick from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.accounts.models import User
from registry.db import db, one_of, utcnow
from registry.releases.models import Release


class ReviewDecision(StrEnum):
    """Each is also the release state machine's event that applies it (registry/releases/states.py)."""

    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (one_of("decision", ReviewDecision),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    release: Mapped[Release] = relationship(foreign_keys=[release_id], back_populates="reviews")
    reviewer: Mapped[User] = relationship()


class ReviewReason(db.Model):
    __tablename__ = "review_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    text_ko: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)


class ReviewReminder(db.Model):
    """When reviewers were last reminded of a release waiting for review (at most once a day each)."""

    __tablename__ = "review_reminders"

    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True)
    reminded_at: Mapped[datetime] = mapped_column(default=utcnow)
