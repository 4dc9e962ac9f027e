"""Telling people what happened: in-app notifications, e-mail (outbox first), org webhooks.

Mail is always written to the outbox table (in the caller's transaction, with a "mail.queued" event);
the worker sends it when an SMTP host is configured, and the row records the outcome. Without one it
stays in the outbox, which admins read on /admin/outbox. Each mail is Korean with an English part and
an unsubscribe link. Webhooks are queued as deliveries (registry/notifications/deliveries.py).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update

from registry.accounts.models import Organization, User
from registry.db import db, utcnow
from registry.events import EventName, emit
from registry.notifications import deliveries
from registry.notifications.models import MailOptOut, Notification, NotificationKind, OutboxEmail
from registry.web import absolute

log = logging.getLogger("registry.notifications")
RETRY_MAIL_FOR = timedelta(days=1)


def notify_org(org: Organization, kind: NotificationKind, message: str, link: str | None = None, *,
               email_subject: str | None = None, webhook_payload: dict | None = None) -> Notification:
    """One in-app notification for the org, an e-mail to each member, and the org's webhook if set.
    `message` may be a lazy string: the notification keeps the default language, mail adds English."""
    note = Notification(org_id=org.id, kind=kind, message=_in(message), link=link)
    db.session.add(note)
    for membership in org.memberships:
        queue_email(membership.user, email_subject or message, message, link)
    if org.webhook_url and not org.webhook_disabled_at and webhook_payload is not None:
        deliveries.queue(org, webhook_payload.get("event") or kind,
                         {"kind": kind, "message": _in(message), "link": link, **webhook_payload})
    return note


def notify_user(user: User, kind: NotificationKind, message: str, link: str | None = None, *, email: bool = True,
                email_subject: str | None = None) -> Notification:
    note = Notification(user_id=user.id, kind=kind, message=_in(message), link=link)
    db.session.add(note)
    if email:
        queue_email(user, email_subject or message, message, link)
    return note


def _in(text, locale: str | None = None) -> str:
    with force_locale(locale or current_app.config.get("DEFAULT_LOCALE") or "ko"):
        return str(text)


def unsubscribe_token(user_id: int) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe").dumps(user_id)


def user_of_token(token: str) -> int | None:
    try:
        return int(URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe").loads(token))
    except (BadSignature, TypeError, ValueError):
        return None


def unsubscribe_url(user_id: int) -> str:
    return absolute(f"/unsubscribe/{unsubscribe_token(user_id)}")


def queue_email(user: User, subject, message, link: str | None = None) -> OutboxEmail | None:
    """Outbox a mail to the user (none if they unsubscribed): Korean, then English, then how to stop."""
    if db.session.get(MailOptOut, user.id) is not None:
        return None
    where = f"\n{absolute(link)}" if link else ""
    ko, en = _in(message, "ko"), _in(message, "en")
    stop = _l("To stop these e-mails: %(url)s", url=unsubscribe_url(user.id))
    body = f"{ko}{where}\n\n--- English ---\n{en}{where}\n\n{_in(stop, 'ko')}\n{_in(stop, 'en')}"
    mail = OutboxEmail(to=user.email, subject=_in(subject, "ko")[:300], body=body, user_id=user.id)
    db.session.add(mail)
    db.session.flush()
    emit(EventName.MAIL_QUEUED, email_id=mail.id)
    log.info("mail to %s: %s", user.email, mail.subject)
    return mail


def unsubscribe(user_id: int) -> None:
    """Turn the user's mail off. Following the link twice is fine."""
    if db.session.get(User, user_id) is not None and db.session.get(MailOptOut, user_id) is None:
        db.session.add(MailOptOut(user_id=user_id))


def deliver_outbox(ids: list[int] | None = None, limit: int = 100) -> int:
    """Send unsent mail (these ids, or everything of the last day) through the configured SMTP server;
    returns how many were sent. Without an SMTP host the mail stays in the outbox."""
    host = current_app.config.get("SMTP_HOST")
    if not host:
        return 0
    query = select(OutboxEmail).where(OutboxEmail.sent_at.is_(None))
    query = query.where(OutboxEmail.id.in_(ids)) if ids is not None else query.where(
        OutboxEmail.created_at > utcnow() - RETRY_MAIL_FOR)
    pending = db.session.scalars(query.order_by(OutboxEmail.id).limit(limit)).all()
    if not pending:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(host, int(current_app.config["SMTP_PORT"]), timeout=10) as smtp:
            for mail in pending:
                try:
                    smtp.send_message(_message(mail))
                    mail.sent_at, mail.error = utcnow(), None
                    sent += 1
                except smtplib.SMTPException as exc:
                    mail.error = str(exc)
    except (OSError, smtplib.SMTPException) as exc:  # the server is away: the periodic sweep tries again
        log.warning("mail server %s: %s", host, exc)
        for mail in pending:
            mail.error = mail.error or f"{type(exc).__name__}: {exc}"
    db.session.commit()
    return sent


def _message(mail: OutboxEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = current_app.config["MAIL_FROM"], mail.to, mail.subject
    if mail.user_id is not None:
        # RFC 8058: mail programs offer a one-click "unsubscribe" that POSTs to this address.
        message["List-Unsubscribe"] = f"<{unsubscribe_url(mail.user_id)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.body)
    return message


def outbox(limit: int = 200) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)))


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
