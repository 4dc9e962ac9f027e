"""Latest air-quality readings per station, joined with their measuring devices."""

from __future__ import annotations

import threading
import time
from typing import Any

from .cai import POLLUTANTS, comprehensive_index, to_table_unit
from .hub import NgsiLdClient


def _value(entity: dict[str, Any], name: str) -> Any:
    attribute = entity.get(name)
    if isinstance(attribute, dict):
        if attribute.get("type") == "Relationship":
            return attribute.get("object")
        value = attribute.get("value")
        return value.get("@value") if isinstance(value, dict) and "@value" in value else value
    return attribute


def station_view(observation: dict[str, Any], devices: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One dashboard row: readings in table units, CAI, and device state."""
    concentrations: dict[str, float] = {}
    problems: list[str] = []
    for pollutant in POLLUTANTS:
        attribute = observation.get(pollutant.key)
        if not isinstance(attribute, dict):
            continue
        value = attribute.get("value")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            problems.append(f"{pollutant.key}: not a non-negative number")
            continue
        try:
            concentrations[pollutant.key] = to_table_unit(pollutant, float(value), attribute.get("unitCode"))
        except ValueError as exc:
            problems.append(str(exc))
    result = comprehensive_index(concentrations)
    device_id = _value(observation, "refDevice")
    device = devices.get(device_id or "", {})
    geometry = _value(observation, "location")
    return {
        "id": observation["id"],
        "name": _value(device, "name") or observation["id"].rsplit(":", 1)[-1],
        "device": device_id,
        "deviceState": _value(device, "deviceState"),
        "dateObserved": _value(observation, "dateObserved"),
        "coordinates": geometry.get("coordinates") if isinstance(geometry, dict) else None,
        "concentrations": {key: round(value, 4) for key, value in concentrations.items()},
        "problems": problems,
        **result.to_json(),
    }


class StationStore:
    """Cache of AirQualityObserved and Device entities.

    Refreshed from the hub when older than `max_age` seconds; notifications update it
    in between, so the page stays current without hammering the hub.
    """

    def __init__(self, client: NgsiLdClient, max_age: float = 60.0) -> None:
        self.client = client
        self.max_age = max_age
        self._observations: dict[str, dict[str, Any]] = {}
        self._devices: dict[str, dict[str, Any]] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def refresh(self) -> None:
        observations = {e["id"]: e for e in self.client.entities("AirQualityObserved")}
        devices = {e["id"]: e for e in self.client.entities("Device")}
        with self._lock:
            self._observations, self._devices = observations, devices
            self._fetched_at = time.monotonic()

    def merge(self, entities: list[dict[str, Any]]) -> int:
        """Apply notified entities (partial attributes are merged); returns how many were used."""
        used = 0
        with self._lock:
            for entity in entities:
                target = {"AirQualityObserved": self._observations, "Device": self._devices}.get(
                    entity.get("type", "")
                )
                if target is None or "id" not in entity:
                    continue
                target.setdefault(entity["id"], {}).update(entity)
                used += 1
        return used

    def stations(self) -> list[dict[str, Any]]:
        if time.monotonic() - self._fetched_at > self.max_age:
            self.refresh()
        with self._lock:
            views = [station_view(o, self._devices) for o in self._observations.values()]
        return sorted(views, key=lambda v: (-(v["cai"] if v["cai"] is not None else -1), v["name"]))
