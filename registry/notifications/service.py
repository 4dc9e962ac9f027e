"""Telling people what happened: in-app notifications, e-mail (outbox first), org webhooks.

Mail is always written to the outbox table and the log; when an SMTP host is configured it is
also sent, and the row records the outcome. Nothing is lost when no mail server is configured.
"""

from __future__ import annotations

import json
import logging
import smtplib
from email.message import EmailMessage
from http.client import HTTPException

from flask import current_app
from sqlalchemy import func, select, update

from registry.accounts.models import Organization, User
from registry.db import db, utcnow
from registry.errors import RegistryError
from registry.notifications import webhooks
from registry.notifications.models import Notification, OutboxEmail

log = logging.getLogger("registry.notifications")


def notify_org(org: Organization, kind: str, message: str, link: str | None = None, *,
               email_subject: str | None = None, webhook_payload: dict | None = None) -> Notification:
    """One in-app notification for the org, an e-mail to each member, and the org's webhook if set."""
    note = Notification(org_id=org.id, kind=kind, message=message, link=link)
    db.session.add(note)
    for membership in org.memberships:
        queue_email(membership.user.email, email_subject or message, f"{message}\n\n{link or ''}".strip())
    if org.webhook_url and webhook_payload is not None:
        queue_webhook(org, {"kind": kind, "message": message, "link": link, **webhook_payload})
    return note


def notify_user(user: User, kind: str, message: str, link: str | None = None, *, email: bool = True) -> Notification:
    note = Notification(user_id=user.id, kind=kind, message=message, link=link)
    db.session.add(note)
    if email:
        queue_email(user.email, message, f"{message}\n\n{link or ''}".strip())
    return note


def queue_email(to: str, subject: str, body: str) -> OutboxEmail:
    mail = OutboxEmail(to=to, subject=subject[:300], body=body)
    db.session.add(mail)
    log.info("mail to %s: %s", to, subject)
    return mail


def deliver_outbox(limit: int = 100) -> int:
    """Send unsent mail through the configured SMTP server; returns how many were sent."""
    host = current_app.config.get("SMTP_HOST")
    if not host:
        return 0
    sent = 0
    pending = db.session.scalars(select(OutboxEmail).where(OutboxEmail.sent_at.is_(None)).limit(limit)).all()
    with smtplib.SMTP(host, int(current_app.config["SMTP_PORT"]), timeout=10) as smtp:
        for mail in pending:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = current_app.config["MAIL_FROM"], mail.to, mail.subject
            message.set_content(mail.body)
            try:
                smtp.send_message(message)
                mail.sent_at, mail.error = utcnow(), None
                sent += 1
            except smtplib.SMTPException as exc:
                mail.error = str(exc)
    db.session.commit()
    return sent


def queue_webhook(org: Organization, payload: dict) -> None:
    """Webhooks are delivered after the transaction commits, signed with the org's secret (docs/webhooks.md).
    The message id is fixed here, so that a later retry would carry the same one."""
    pending = db.session.info.setdefault("pending_webhooks", [])
    pending.append((org.webhook_url, org.webhook_secret or "", webhooks.new_message_id(),
                    json.dumps(payload, ensure_ascii=False, sort_keys=True)))


def unread_count(user: User) -> int:
    org_ids = [m.org_id for m in user.memberships]
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.read_at.is_(None),
        (Notification.user_id == user.id) | (Notification.org_id.in_(org_ids))))


def inbox(user: User, limit: int = 100) -> list[Notification]:
    org_ids = [m.org_id for m in user.memberships]
    return db.session.scalars(select(Notification).where(
        (Notification.user_id == user.id) | (Notification.org_id.in_(org_ids)))
        .order_by(Notification.id.desc()).limit(limit)).all()


def mark_all_read(user: User) -> None:
    org_ids = [m.org_id for m in user.memberships]
    db.session.execute(update(Notification).where(
        Notification.read_at.is_(None),
        (Notification.user_id == user.id) | (Notification.org_id.in_(org_ids))).values(read_at=utcnow()))
    db.session.commit()


def _deliver_webhooks(session) -> None:
    for url, secret, message_id, body in session.info.pop("pending_webhooks", []):
        try:
            status = webhooks.post(url, secret, message_id, body.encode())
        except RegistryError as exc:
            log.warning("webhook %s to %s refused: %s", message_id, url, exc.detail)
        except (OSError, HTTPException) as exc:
            log.warning("webhook %s to %s failed: %s", message_id, url, exc)
        else:
            if not 200 <= status < 300:
                log.warning("webhook %s to %s answered %s (redirects are not followed)", message_id, url, status)


def _drop_webhooks(session) -> None:
    session.info.pop("pending_webhooks", None)


def register_session_hooks() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _deliver_webhooks):
        event.listen(Session, "after_commit", _deliver_webhooks)
        event.listen(Session, "after_soft_rollback", lambda session, previous: _drop_webhooks(session))
