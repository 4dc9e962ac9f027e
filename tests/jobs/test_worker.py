"""The real worker: a `flask --app registry worker` process consuming the SQLite queue file and Redis."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from registry import events
from registry.accounts.models import User
from registry.catalog.adoption import record_adoption, set_webhook
from registry.db import db
from registry.notifications.models import DeliveryStatus, WebhookDelivery
from registry.releases import states
from tests.jobs.conftest import Receiver, wait_for

pytestmark = pytest.mark.explicit_dispatch


def owner() -> User:
    return db.session.scalar(select(User).where(User.username == "cheonan"))


def deliveries() -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_healthz_sees_the_worker_and_the_queue_depth(app, client, start_worker):
    before = client.get("/healthz").json["queue"]
    assert before["worker"] == "missing" and before["pending"] == 0
    app.extensions["jobs"].handle(0, "reindex")  # an event that does not exist: a no-op job
    assert client.get("/healthz").json["queue"]["pending"] == 1
    start_worker()
    state = wait_for(lambda: (q := client.get("/healthz").json["queue"])["worker"] == "alive" and q["pending"] == 0
                     and q, what="a live worker that emptied the queue")
    assert state["heartbeat_age_s"] < 30


def test_upload_approve_deliver_retry_and_deliver_again(app, client, publish, municipality, vendor_tokens,
                                                        start_worker):
    """End to end through the worker: a signed delivery; the receiver goes away, the delivery retries
    under the same webhook-id and the log shows it; the receiver comes back and gets it."""
    receiver = Receiver()
    running = publish("parking-share", "1.0.0")
    record_adoption(owner(), municipality, running, "production", date(2024, 5, 1))
    db.session.commit()
    secret = set_webhook(owner(), municipality, receiver.url)
    db.session.commit()
    start_worker()

    newer = publish("parking-share", "1.1.0", pending=True)
    states.transition_release(newer, "approve")  # the reviewer's decision, committed ...
    db.session.commit()
    events.dispatch_if_emitted()  # ... and dispatched by the unit of work that committed it
    [(headers, body)] = wait_for(lambda: receiver.received, what="the superseded alert")
    payload = Webhook(secret).verify(body, headers)
    assert payload["event"] == "release.superseded" and payload["version"] == "1.1.0"
    wait_for(lambda: deliveries()[0].status == DeliveryStatus.DELIVERED, what="the log to say delivered")

    port = receiver.port
    receiver.close()
    token = vendor_tokens("hanbit")
    response = client.post("/api/v1/solutions/parking-share/releases/1.0.0/yank", json={"reason": "예약 오류로 회수"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    retrying = wait_for(lambda: (d := deliveries()[-1]).attempts >= 2 and d.status == DeliveryStatus.RETRYING and d,
                        what="retries in the log")
    assert retrying.event == "release.yanked" and retrying.last_status_code is None and retrying.last_error
    assert retrying.next_try_at is not None

    back = Receiver(port=port)
    try:
        received = wait_for(lambda: back.received, what="the retried delivery")
        # At least once: a retry and the sweep may both send it; the same webhook-id lets a receiver dedupe.
        assert {headers["webhook-id"] for headers, _body in received} == {retrying.webhook_id}
        assert all(json.loads(body)["reason"] == "예약 오류로 회수" for _headers, body in received)
        done = wait_for(lambda: (d := deliveries()[-1]).status == DeliveryStatus.DELIVERED and d, what="delivered")
        assert done.last_status_code == 204 and done.latency_ms is not None
    finally:
        back.close()


def test_an_event_committed_but_never_dispatched_is_drained_by_the_worker(app, publish, municipality,
                                                                           start_worker, monkeypatch):
    """The process died between commit and enqueue: the worker's periodic drain still runs the event."""
    from registry.catalog.models import SearchDocument

    release = publish("parking-share", "1.0.0", pending=True)
    states.transition_release(release, "approve")
    db.session.commit()
    db.session.info.clear()  # nobody dispatches: as if the process had died here
    row = db.session.scalar(select(events.EventOutbox).where(events.EventOutbox.name == "release.published"))
    row.created_at = row.created_at.replace(year=2020)  # old enough for the drain
    db.session.commit()
    assert db.session.scalar(select(SearchDocument)) is None
    app.extensions["jobs"].drain()  # what the minute's periodic drain does; not waiting for the clock
    start_worker()
    wait_for(lambda: db.session.scalar(select(SearchDocument)), what="the reindex of the drained event")
    assert db.session.get(events.EventOutbox, row.id).dispatched_at is not None
