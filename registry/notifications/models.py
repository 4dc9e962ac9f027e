"""In-app notifications, the e-mail outbox, mail opt-outs and the webhook delivery log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import db, one_of, utcnow


class NotificationKind(StrEnum):
    ADOPTION_YANKED = "adoption.yanked"  # a release an org runs was yanked
    ADOPTION_VULNERABILITY = "adoption.vulnerability"  # ... has a new known vulnerability
    ADOPTION_SUPERSEDED = "adoption.superseded"  # ... has a newer release
    SUBSCRIPTION_RELEASE = "subscription.release"  # a followed solution published a release
    REVIEW_APPROVE = "review.approve"
    REVIEW_FIRST_APPROVAL = "review.first_approval"  # a first release still needs a second approval
    REVIEW_REQUEST_CHANGES = "review.request_changes"
    REVIEW_REJECT = "review.reject"
    WEBHOOK_DISABLED = "webhook.disabled"
    ADOPTION_DEPRECATED = "adoption.deprecated"  # a solution an org runs was deprecated
    ADOPTION_ARCHIVED = "adoption.archived"  # ... was archived
    REVIEW_REMINDER = "review.reminder"  # releases waiting longer than REGISTRY_REVIEW_REMIND_DAYS


class Notification(db.Model):
    """For every member of an org, or for one user: the inbox shows it to nobody else, so it needs one."""

    __tablename__ = "notifications"
    __table_args__ = (one_of("kind", NotificationKind),
                      CheckConstraint("org_id IS NOT NULL OR user_id IS NOT NULL", name="recipient"))

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class OutboxEmail(db.Model):
    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The recipient's account, for the unsubscribe link (mail to an address without one has none).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class MailOptOut(db.Model):
    """A user who followed the unsubscribe link: in-app notifications only, no more mail."""

    __tablename__ = "mail_opt_outs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first try, or sent again by an owner
    SENDING = "sending"  # a worker holds it until next_try_at
    RETRYING = "retrying"  # failed; tried again at next_try_at
    DELIVERED = "delivered"
    FAILED = "failed"  # given up


class WebhookDelivery(db.Model):
    """One alert to an org's webhook, retried under the same webhook-id until it is delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (one_of("status", DeliveryStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    latency_ms: Mapped[int | None]
    next_try_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
