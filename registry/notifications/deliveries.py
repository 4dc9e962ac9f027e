"""Webhook deliveries, made by the worker: retried with backoff under one webhook-id, logged per endpoint.

A delivery is queued with the alert (same transaction) and tried by a job after the commit. A failed try
is retried after REGISTRY_WEBHOOK_RETRY_SECONDS (the last interval repeats) until it is delivered or
REGISTRY_WEBHOOK_DISABLE_AFTER_DAYS have passed; then it is given up, and when the endpoint has delivered
nothing since, the endpoint is switched off and the org's owners are told.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from http.client import HTTPException

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select, update

from registry.accounts.models import MemberRole, Organization
from registry.db import db, utcnow
from registry.errors import NotFound, RegistryError
from registry.events import EventName, emit
from registry.notifications import webhooks
from registry.notifications.models import DeliveryStatus, NotificationKind, WebhookDelivery

log = logging.getLogger("registry.notifications")
LOST_AFTER = timedelta(minutes=5)  # a delivery this far past its next try has lost its job
LOG_LENGTH = 50


def queue(org: Organization, event: str, payload: dict) -> WebhookDelivery:
    delivery = WebhookDelivery(org_id=org.id, webhook_id=webhooks.new_message_id(), event=event,
                               body=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                               status=DeliveryStatus.PENDING.value)
    db.session.add(delivery)
    db.session.flush()
    emit(EventName.WEBHOOK_QUEUED, delivery_id=delivery.id)
    return delivery


def retry_delays() -> list[int]:
    return [int(s) for s in str(current_app.config["WEBHOOK_RETRY_SECONDS"]).split(",") if s.strip()]


def _claim(delivery_id: int) -> bool:
    """Take the delivery for one try, so that two workers never send it at once; commits."""
    lease = utcnow() + timedelta(seconds=3 * int(current_app.config["WEBHOOK_TIMEOUT"]))
    claimed = db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.status.in_(
            [DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value, DeliveryStatus.SENDING.value]),
            (WebhookDelivery.status != DeliveryStatus.SENDING.value) | (WebhookDelivery.next_try_at < utcnow()))
        .values(status=DeliveryStatus.SENDING.value, next_try_at=lease)).rowcount
    db.session.commit()
    return bool(claimed)


def attempt(delivery_id: int) -> None:
    """One try; no transaction is open while the receiver answers."""
    if not _claim(delivery_id):
        return
    delivery = db.session.get(WebhookDelivery, delivery_id)
    org = db.session.get(Organization, delivery.org_id)
    if not org.webhook_url or org.webhook_disabled_at:
        delivery.status, delivery.last_error = DeliveryStatus.FAILED.value, "the webhook was removed or switched off"
        delivery.next_try_at = None
        return
    url, secret = org.webhook_url, org.webhook_secret or ""
    db.session.commit()  # ends the read transaction before the network call
    started, code, error = time.perf_counter(), None, None
    try:
        code = webhooks.post(url, secret, delivery.webhook_id, delivery.body.encode())
    except RegistryError as exc:
        error = f"refused: {exc.detail}"
    except (OSError, HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    else:
        if not 200 <= code < 300:
            error = f"answered {code} (redirects are not followed)"
    delivery.attempts += 1
    delivery.latency_ms = round((time.perf_counter() - started) * 1000)
    delivery.last_status_code, delivery.last_error = code, error
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_try_at = DeliveryStatus.DELIVERED.value, utcnow(), None
        return
    log.warning("webhook %s to %s %s", delivery.webhook_id, url, error)
    if utcnow() - delivery.created_at >= timedelta(days=float(current_app.config["WEBHOOK_DISABLE_AFTER_DAYS"])):
        delivery.status, delivery.next_try_at = DeliveryStatus.FAILED.value, None
        _disable_if_dead(org, delivery)
        return
    delays = retry_delays() or [60]
    delay = delays[min(delivery.attempts, len(delays)) - 1]
    delivery.status, delivery.next_try_at = DeliveryStatus.RETRYING.value, utcnow() + timedelta(seconds=delay)
    db.session.commit()
    from registry.jobs import schedule_webhook

    schedule_webhook(delivery.id, delay)


def _disable_if_dead(org: Organization, given_up: WebhookDelivery) -> None:
    delivered_since = db.session.scalar(select(exists().where(
        WebhookDelivery.org_id == org.id, WebhookDelivery.delivered_at >= given_up.created_at)))
    if delivered_since:
        return
    org.webhook_disabled_at = utcnow()
    from registry.notifications.service import notify_user

    days = current_app.config["WEBHOOK_DISABLE_AFTER_DAYS"]
    with force_locale(current_app.config.get("DEFAULT_LOCALE") or "ko"):
        message = _("The alert webhook %(url)s was switched off: no delivery succeeded for %(days)s days. "
                    "Save it again on the data hub page to switch it back on.", url=org.webhook_url, days=days)
    for membership in org.memberships:
        if membership.role == MemberRole.OWNER:
            notify_user(membership.user, NotificationKind.WEBHOOK_DISABLED, message, f"/orgs/{org.slug}/datahub")


def resend(org: Organization, delivery_id: int) -> WebhookDelivery:
    """An owner's "send again": the same webhook-id, tried now; the caller checks ownership."""
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                               WebhookDelivery.org_id == org.id))
    if delivery is None:
        raise NotFound("no such webhook delivery")
    delivery.status, delivery.next_try_at = DeliveryStatus.PENDING.value, utcnow()
    emit(EventName.WEBHOOK_QUEUED, delivery_id=delivery.id)
    return delivery


def log_of(org: Organization, limit: int = LOG_LENGTH) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.org_id == org.id)
                                   .order_by(WebhookDelivery.id.desc()).limit(limit)))


def as_json(delivery: WebhookDelivery) -> dict:
    def iso(value):
        return value.isoformat() if value else None

    return {"id": delivery.id, "webhook_id": delivery.webhook_id, "event": delivery.event, "status": delivery.status,
            "attempts": delivery.attempts, "last_status_code": delivery.last_status_code,
            "latency_ms": delivery.latency_ms, "next_try_at": iso(delivery.next_try_at),
            "last_error": delivery.last_error, "created_at": iso(delivery.created_at),
            "delivered_at": iso(delivery.delivered_at)}


def requeue_lost() -> int:
    """Deliveries whose scheduled try never ran (its job lost with a dead worker or a flushed queue)."""
    from registry.jobs import schedule_webhook

    lost = db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value,
                                    DeliveryStatus.SENDING.value]),
        WebhookDelivery.next_try_at < utcnow() - LOST_AFTER)).all()
    for delivery_id in lost:
        schedule_webhook(delivery_id, 0)
    return len(lost)
