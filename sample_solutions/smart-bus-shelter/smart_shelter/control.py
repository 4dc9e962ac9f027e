"""Decide heating, cooling and air purifier for each bus shelter.

Heating has hysteresis because the shelter reports ``heatingOn``; cooling and the air
purifier have no state on the data hub, so they follow a plain threshold.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .ngsi import Entity, NgsiLdClient, haversine_m, point, property_attr, value


@dataclass(frozen=True)
class Thresholds:
    heating_on_below_c: float = 5.0
    heating_off_above_c: float = 8.0
    cooling_on_above_c: float = 28.0
    # Korean PM2.5 grade "나쁨" (bad) starts at 36 µg/m³.
    purifier_on_pm25: float = 36.0
    max_station_distance_m: float = 2000.0
    only_when_occupied: bool = False

    def __post_init__(self) -> None:
        if self.heating_on_below_c >= self.heating_off_above_c:
            raise ValueError("heating_on_below_c must be lower than heating_off_above_c")
        if self.heating_off_above_c >= self.cooling_on_above_c:
            raise ValueError("heating_off_above_c must be lower than cooling_on_above_c")
        if self.purifier_on_pm25 <= 0 or self.max_station_distance_m <= 0:
            raise ValueError("purifier_on_pm25 and max_station_distance_m must be positive")


def load_thresholds(path: str | Path) -> Thresholds:
    """Thresholds from a YAML mapping; keys are the field names of :class:`Thresholds`."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of threshold names to values")
    known = {f.name for f in fields(Thresholds)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown thresholds {unknown}; known: {sorted(known)}")
    for key, val in data.items():
        if key == "only_when_occupied":
            if not isinstance(val, bool):
                raise ValueError(f"{path}: {key} must be true or false, got {val!r}")
        elif isinstance(val, bool) or not isinstance(val, (int, float)):
            raise ValueError(f"{path}: {key} must be a number, got {val!r}")
    return Thresholds(**data)


@dataclass
class Decision:
    shelter_id: str
    name: str
    temperature_c: float | None
    temperature_source: str | None
    pm25: float | None
    air_station: str | None
    heating: bool
    cooling: bool
    air_purifier: bool
    heating_was_on: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def heating_changed(self) -> bool:
        return self.heating != self.heating_was_on

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"heating_changed": self.heating_changed}


def _nearest(origin: tuple[float, float], candidates: list[Entity], attr: str, max_m: float) -> tuple[Entity, float] | None:
    best: tuple[Entity, float] | None = None
    for entity in candidates:
        where = point(entity)
        if where is None or value(entity, attr) is None:
            continue
        distance = haversine_m(origin, where)
        if distance <= max_m and (best is None or distance < best[1]):
            best = (entity, distance)
    return best


def decide(shelters: list[Entity], air: list[Entity], weather: list[Entity], limits: Thresholds) -> list[Decision]:
    decisions = []
    for shelter in sorted(shelters, key=lambda s: s["id"]):
        where = point(shelter)
        was_on = bool(value(shelter, "heatingOn", False))
        reasons: list[str] = []

        temperature = value(shelter, "temperature")
        source = shelter["id"] if temperature is not None else None
        if temperature is None and where is not None:
            nearest = _nearest(where, weather, "temperature", limits.max_station_distance_m)
            if nearest:
                temperature, source = value(nearest[0], "temperature"), nearest[0]["id"]
                reasons.append(f"temperature from {source} ({nearest[1]:.0f} m away)")
        pm25, station = None, None
        if where is not None:
            nearest = _nearest(where, air, "pm25", limits.max_station_distance_m)
            if nearest:
                pm25, station = float(value(nearest[0], "pm25")), nearest[0]["id"]

        heating, cooling, purifier = was_on, False, False
        if temperature is None:
            reasons.append("no temperature: heating left as it is")
        else:
            temperature = float(temperature)
            if temperature < limits.heating_on_below_c:
                heating = True
            elif temperature > limits.heating_off_above_c:
                heating = False
            cooling = temperature > limits.cooling_on_above_c
        if pm25 is None:
            reasons.append("no air quality station in range: purifier off")
        else:
            purifier = pm25 >= limits.purifier_on_pm25
        if limits.only_when_occupied and value(shelter, "occupancy", 1) == 0:
            heating = cooling = purifier = False
            reasons.append("shelter empty: everything off")

        decisions.append(
            Decision(shelter["id"], str(value(shelter, "name", shelter["id"])), temperature, source,
                     pm25, station, heating, cooling, purifier, was_on, reasons)
        )
    return decisions


def run_once(client: NgsiLdClient, limits: Thresholds, *, apply: bool) -> list[Decision]:
    """Read the hub, decide, and (with ``apply``) write changed ``heatingOn`` values back."""
    decisions = decide(
        client.entities("BusShelter"), client.entities("AirQualityObserved"), client.entities("WeatherObserved"), limits
    )
    if apply:
        for decision in decisions:
            if decision.heating_changed:
                client.update_attrs(decision.shelter_id, {"heatingOn": property_attr(decision.heating)})
    return decisions
