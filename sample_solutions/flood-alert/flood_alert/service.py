"""Glue between the data hub and the alert engine."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .hub import NgsiLdClient
from .levels import AlertEngine, Thresholds

log = logging.getLogger(__name__)

OBSERVED_TYPES = ("RainfallObserved", "WaterLevelObserved")
WATCHED = {"RainfallObserved": "precipitation", "WaterLevelObserved": "waterLevel"}
DEFAULT_THRESHOLDS = Path(__file__).with_name("default_thresholds.yaml")


def load_thresholds(path: str | Path | None) -> Thresholds:
    return Thresholds.load(path or DEFAULT_THRESHOLDS)


def process(
    client: NgsiLdClient, engine: AlertEngine, entities: Iterable[dict[str, Any]]
) -> dict[str, list[str]]:
    """Assess entities and publish the resulting alerts; returns created/duplicate/rejected ids."""
    outcome: dict[str, list[str]] = {"created": [], "duplicates": [], "rejected": []}
    for entity in entities:
        try:
            alerts = engine.observe(entity)
        except ValueError as exc:
            log.warning("skipped observation: %s", exc)
            outcome["rejected"].append(str(entity.get("id", "?")))
            continue
        for alert in alerts:
            created = client.create_entity(alert)
            outcome["created" if created else "duplicates"].append(alert["id"])
    return outcome


def poll_once(client: NgsiLdClient, engine: AlertEngine) -> dict[str, list[str]]:
    entities = [entity for kind in OBSERVED_TYPES for entity in client.entities(kind)]
    return process(client, engine, entities)


def subscribe(client: NgsiLdClient, notify_url: str) -> list[str]:
    """Create (idempotently) one subscription per observed type; returns the new ones."""
    created = []
    for kind, attribute in WATCHED.items():
        subscription_id = f"urn:ngsi-ld:Subscription:flood-alert:{kind}"
        body = {
            "id": subscription_id,
            "type": "Subscription",
            "entities": [{"type": kind}],
            "watchedAttributes": [attribute],
            "notification": {
                "format": "normalized",
                "endpoint": {"uri": notify_url, "accept": "application/json"},
            },
        }
        if client.subscribe(body):
            created.append(subscription_id)
    return created
