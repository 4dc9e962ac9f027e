"""Mail through a real SMTP server, unsubscribing, the outbox page; the delivery log, giving up, sending again."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from registry.catalog.adoption import set_webhook
from registry.db import db, utcnow
from registry.notifications import deliveries
from registry.notifications.models import (
    DeliveryStatus,
    MailOptOut,
    Notification,
    NotificationKind,
    OutboxEmail,
    WebhookDelivery,
)
from registry.notifications.service import notify_org, notify_user
from tests.helpers import csrf_token, login
from tests.jobs.conftest import Receiver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config):  # these run in immediate mode, like the rest of the suite
    return {**app_config, "QUEUE_URL": "immediate", "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "WEBHOOK_RETRY_SECONDS": "60,300,1800", "PUBLIC_URL": "https://registry.example.go.kr"}


@pytest.fixture(params=["sqlite"])
def queue_url(request):
    return "immediate"


def member(municipality):
    return municipality.memberships[0].user


def test_mail_goes_out_by_smtp_in_korean_with_english_and_an_unsubscribe_link(app, client, municipality,
                                                                                smtp_server):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    from flask_babel import lazy_gettext

    notify_user(member(municipality), NotificationKind.SUBSCRIPTION_RELEASE, lazy_gettext("Notifications"),
                "/notifications")
    db.session.commit()
    [envelope] = smtp_server.messages
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["To"] == "cheonan@example.org" and mail["Subject"] == "알림"
    body = mail.get_content().replace("\r\n", "\n")
    link = "https://registry.example.go.kr/notifications"
    assert body.startswith(f"알림\n{link}\n") and f"--- English ---\nNotifications\n{link}" in body
    url = re.search(r"(https://registry.example.go.kr/unsubscribe/\S+)", body).group(1)
    assert f"To stop these e-mails: {url}" in body
    assert mail["List-Unsubscribe"].strip() == f"<{url}>"
    assert db.session.scalar(select(OutboxEmail)).sent_at is not None

    path = url.removeprefix("https://registry.example.go.kr")
    assert client.get(path).status_code == 200 and db.session.scalar(select(MailOptOut)) is None  # GET changes nothing
    assert client.post(path).status_code == 200  # one click, as RFC 8058 mail programs do
    notify_user(member(municipality), NotificationKind.SUBSCRIPTION_RELEASE, "두 번째", "/notifications")
    db.session.commit()
    assert len(smtp_server.messages) == 1  # no more mail, though the notification is there
    assert client.post("/unsubscribe/forged").status_code == 404


def test_without_an_smtp_host_mail_stays_in_the_outbox_that_admins_read(app, client, municipality, make_user):
    notify_user(member(municipality), NotificationKind.SUBSCRIPTION_RELEASE, "점검 안내", "/notifications")
    db.session.commit()
    assert db.session.scalar(select(OutboxEmail)).sent_at is None
    login(client, "cheonan")
    assert client.get("/admin/outbox").status_code == 403
    make_user("admin", role="admin")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/notifications")})
    login(client, "admin")
    assert "점검 안내" in client.get("/admin/outbox").get_data(as_text=True)


def test_a_failing_endpoint_retries_then_gives_up_and_is_switched_off_with_a_notice(app, municipality):
    receiver = Receiver(status=500)
    try:
        set_webhook(member(municipality), municipality, receiver.url)
        db.session.commit()
        notify_org(municipality, NotificationKind.ADOPTION_YANKED, "회수 알림", webhook_payload={"event": "release.yanked"})
        db.session.commit()
        [delivery] = db.session.scalars(select(WebhookDelivery)).all()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.RETRYING, 1, 500)
        assert timedelta(seconds=50) < delivery.next_try_at - utcnow() < timedelta(seconds=70)  # the first wait
        assert app.extensions["jobs"].huey.scheduled_count() == 1  # the retry waits in the queue's schedule
        deliveries.attempt(delivery.id)  # what that scheduled job does
        db.session.commit()
        assert delivery.attempts == 2 and 250 < (delivery.next_try_at - utcnow()).total_seconds() < 310

        delivery.created_at -= timedelta(days=4)
        db.session.commit()
        deliveries.attempt(delivery.id)
        db.session.commit()
        assert delivery.status == DeliveryStatus.FAILED and municipality.webhook_disabled_at is not None
        assert len(receiver.received) == 3
        assert len({h["webhook-id"] for h, _ in receiver.received}) == 1  # one id on every try
        disabled = Notification.kind == NotificationKind.WEBHOOK_DISABLED
        [notice] = db.session.scalars(select(Notification).where(disabled)).all()
        assert notice.user_id == member(municipality).id and "웹훅" in notice.message
        assert db.session.scalars(select(OutboxEmail.subject).order_by(OutboxEmail.id)).all()[-1] == notice.message
    finally:
        receiver.close()


def test_owners_see_the_log_and_send_again_on_the_web_and_read_it_through_the_api(app, client, municipality,
                                                                                   make_token):
    receiver = Receiver(status=500)
    try:
        set_webhook(member(municipality), municipality, receiver.url)
        db.session.commit()
        notify_org(municipality, NotificationKind.ADOPTION_YANKED, "회수 알림", webhook_payload={"event": "release.yanked"})
        db.session.commit()
        login(client, "cheonan")
        page = client.get("/orgs/cheonan/datahub").get_data(as_text=True)
        [delivery] = db.session.scalars(select(WebhookDelivery)).all()
        assert delivery.webhook_id in page and "재시도 중" in page
        receiver.status = 204
    finally:
        receiver.close()
    ok = Receiver()
    try:
        set_webhook(member(municipality), municipality, ok.url)
        db.session.commit()
        response = client.post(f"/orgs/cheonan/webhook/deliveries/{delivery.id}/resend",
                               data={"csrf_token": csrf_token(client, "/orgs/cheonan/datahub")})
        assert response.status_code == 302
        [(headers, _)] = ok.received
        assert headers["webhook-id"] == delivery.webhook_id
        assert client.post(f"/orgs/cheonan/webhook/deliveries/{delivery.id}/resend").status_code == 400  # no CSRF

        token = make_token(member(municipality), "cheonan", ["read"])
        answer = client.get("/api/v1/orgs/cheonan/webhook/deliveries", headers={"Authorization": f"Bearer {token}"})
        [logged] = answer.json["deliveries"]
        assert (logged["status"], logged["attempts"], logged["last_status_code"]) == ("delivered", 2, 204)
        other = client.get("/api/v1/orgs/hanbit/webhook/deliveries", headers={"Authorization": f"Bearer {token}"})
        assert other.status_code in (403, 404) and other.json["errors"]
    finally:
        ok.close()


def test_no_orm_event_listener_carries_business_logic():
    found = subprocess.run(["grep", "-rnE", r"event\.listen(s_for)?\(", "registry"], cwd=ROOT, capture_output=True, text=True)
    lines = found.stdout.strip().splitlines()
    # Only the SQLite connection pragmas (locking, WAL, foreign keys) listen to anything.
    assert len(lines) == 1 and "registry/app.py" in lines[0] and "Engine, \"connect\"" in lines[0], lines


def test_a_queue_url_of_no_known_kind_is_refused(tmp_path):
    from registry import create_app

    with pytest.raises(ValueError, match="REGISTRY_QUEUE_URL"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "SECRET_KEY": "x", "QUEUE_URL": "큐.db"})
