"""Reading the fleet configuration and turning hub entities into planner inputs."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from .planner import Point, Request, Settings, Vehicle

PENDING, ASSIGNED = "requested", "assigned"
OUT_OF_SERVICE = {"broken", "outOfService"}
DEFAULT_FLEET = Path(__file__).with_name("default_fleet.yaml")
SETTING_NAMES = {
    "speedKmh": "speed_kmh",
    "roadFactor": "road_factor",
    "dwellMinutes": "dwell_minutes",
    "aidDwellMinutes": "aid_dwell_minutes",
    "maxWaitMinutes": "max_wait_minutes",
    "maxRideFactor": "max_ride_factor",
    "rideSlackMinutes": "ride_slack_minutes",
    "windowMinutes": "window_minutes",
}


class FleetConfig:
    """Seats and wheelchair access per vehicle type (the Vehicle model has no seat count)."""

    def __init__(self, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("vehicleTypes"), dict):
            raise ValueError("fleet config needs a 'vehicleTypes' mapping")
        self.types = {name: self._seats(f"vehicleTypes.{name}", spec) for name, spec in data["vehicleTypes"].items()}
        self.vehicles = {
            vid: self._seats(f"vehicles.{vid}", spec) for vid, spec in (data.get("vehicles") or {}).items()
        }
        raw_settings = data.get("settings") or {}
        unknown = set(raw_settings) - set(SETTING_NAMES)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        for key, value in raw_settings.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"settings.{key} must be a positive number, got {value!r}")
        options: dict[str, Any] = {
            SETTING_NAMES[key]: int(value) if key == "windowMinutes" else float(value)
            for key, value in raw_settings.items()
        }
        self.settings = Settings(**options)

    @staticmethod
    def _seats(where: str, spec: Any) -> tuple[int, bool]:
        if not isinstance(spec, dict) or not isinstance(spec.get("capacity"), int) or spec["capacity"] < 1:
            raise ValueError(f"{where}: needs a positive integer 'capacity'")
        return spec["capacity"], bool(spec.get("accessible", False))

    @classmethod
    def load(cls, path: str | Path | None = None) -> "FleetConfig":
        source = Path(path) if path else DEFAULT_FLEET
        try:
            data = yaml.safe_load(source.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{source}: not valid YAML: {exc}") from exc
        return cls(data)

    def seats_for(self, vehicle_id: str, vehicle_type: str | None) -> tuple[int, bool] | None:
        return self.vehicles.get(vehicle_id) or self.types.get(vehicle_type or "")


def attribute_value(entity: dict[str, Any], name: str) -> Any:
    attribute = entity.get(name)
    if isinstance(attribute, dict):
        if attribute.get("type") == "Relationship":
            return attribute.get("object")
        value = attribute.get("value")
        return value.get("@value") if isinstance(value, dict) and "@value" in value else value
    return attribute


def _point(entity: dict[str, Any], name: str) -> Point:
    geometry = attribute_value(entity, name)
    try:
        lon, lat = geometry["coordinates"][:2]
        if geometry["type"] != "Point":
            raise TypeError
        return Point(float(lat), float(lon))
    except (TypeError, KeyError, ValueError) as exc:
        raise ValueError(f"{entity.get('id', '?')}: {name} must be a GeoJSON Point") from exc


def request_from_entity(entity: dict[str, Any]) -> Request:
    entity_id = entity.get("id", "?")
    try:
        requested = datetime.fromisoformat(str(attribute_value(entity, "requestedTime")))
    except ValueError as exc:
        raise ValueError(f"{entity_id}: requestedTime is not an ISO 8601 date-time") from exc
    if requested.tzinfo is None:
        raise ValueError(f"{entity_id}: requestedTime needs a time zone")
    passengers = attribute_value(entity, "passengerCount")
    if passengers is None:
        passengers = 1
    if not isinstance(passengers, int) or isinstance(passengers, bool) or passengers < 1:
        raise ValueError(f"{entity_id}: passengerCount must be a positive integer")
    status = attribute_value(entity, "status")
    return Request(
        id=entity_id,
        origin=_point(entity, "origin"),
        destination=_point(entity, "destination"),
        requested=requested.astimezone(timezone.utc),
        passengers=passengers,
        mobility_aid=attribute_value(entity, "mobilityAid") is True,
        assigned_vehicle=attribute_value(entity, "assignedVehicle") if status == ASSIGNED else None,
    )


def vehicle_from_entity(entity: dict[str, Any], fleet: FleetConfig) -> Vehicle | None:
    """None when the vehicle is out of service or its seats are unknown."""
    if attribute_value(entity, "serviceStatus") in OUT_OF_SERVICE:
        return None
    seats = fleet.seats_for(entity["id"], attribute_value(entity, "vehicleType"))
    if seats is None:
        return None
    return Vehicle(entity["id"], _point(entity, "location"), *seats)
