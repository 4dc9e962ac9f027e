"""Four-level flood and heavy-rain alerting (관심 → 주의 → 경계 → 심각)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import IntEnum
from pathlib import Path
from typing import Any

import yaml


class Level(IntEnum):
    NORMAL = 0
    ATTENTION = 1  # 관심
    CAUTION = 2  # 주의
    WARNING = 3  # 경계
    SEVERE = 4  # 심각

    @property
    def korean(self) -> str:
        return ("정상", "관심", "주의", "경계", "심각")[self]

    @property
    def severity(self) -> str:
        """FIWARE Alert `severity` for this level."""
        return ("informational", "low", "medium", "high", "critical")[self]


def level_for(value: float, limits: Sequence[float]) -> Level:
    """The highest level whose lower limit `value` reaches; limits are 관심, 주의, 경계, 심각."""
    reached = [i + 1 for i, limit in enumerate(limits) if value >= limit]
    return Level(max(reached, default=0))


def _four_ascending(name: str, raw: Any) -> tuple[float, float, float, float]:
    if (
        not isinstance(raw, list)
        or len(raw) != 4
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
    ):
        raise ValueError(f"{name}: expected a list of four numbers [관심, 주의, 경계, 심각], got {raw!r}")
    if any(a >= b for a, b in zip(raw, raw[1:], strict=False)):
        raise ValueError(f"{name}: the four limits must be strictly increasing, got {raw!r}")
    return (float(raw[0]), float(raw[1]), float(raw[2]), float(raw[3]))


@dataclass(frozen=True)
class Thresholds:
    rain_1h: tuple[float, float, float, float]
    rain_3h: tuple[float, float, float, float]
    stations: dict[str, tuple[float, float, float, float]]
    clear_after: timedelta = timedelta(hours=1)

    @classmethod
    def from_mapping(cls, data: Any) -> "Thresholds":
        if not isinstance(data, dict):
            raise ValueError("thresholds must be a mapping with 'rainfall' and 'waterLevel'")
        rainfall = data.get("rainfall") or {}
        stations = data.get("waterLevel") or {}
        if not isinstance(rainfall, dict) or not isinstance(stations, dict):
            raise ValueError("'rainfall' and 'waterLevel' must be mappings")
        clear_minutes = data.get("clearAfterMinutes", 60)
        if not isinstance(clear_minutes, int) or clear_minutes < 0:
            raise ValueError(f"clearAfterMinutes must be a non-negative integer, got {clear_minutes!r}")
        return cls(
            rain_1h=_four_ascending("rainfall.1h", rainfall.get("1h")),
            rain_3h=_four_ascending("rainfall.3h", rainfall.get("3h")),
            stations={
                str(station): _four_ascending(f"waterLevel.{station}", limits)
                for station, limits in stations.items()
            },
            clear_after=timedelta(minutes=clear_minutes),
        )

    @classmethod
    def load(cls, path: str | Path) -> "Thresholds":
        with open(path, encoding="utf-8") as handle:
            try:
                data = yaml.safe_load(handle)
            except yaml.YAMLError as exc:
                raise ValueError(f"{path}: not valid YAML: {exc}") from exc
        try:
            return cls.from_mapping(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc


def _value(entity: dict[str, Any], name: str) -> Any:
    attribute = entity.get(name)
    if isinstance(attribute, dict):
        value = attribute.get("value")
        # Typed literals such as {"@type": "DateTime", "@value": "..."}.
        return value.get("@value") if isinstance(value, dict) and "@value" in value else value
    return attribute


def _observed_at(entity: dict[str, Any]) -> datetime:
    text = _value(entity, "dateObserved")
    if not isinstance(text, str):
        raise ValueError(f"{entity.get('id', '?')}: dateObserved missing")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{entity.get('id', '?')}: bad dateObserved {text!r}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"{entity.get('id', '?')}: dateObserved needs a time zone: {text!r}")
    return moment.astimezone(timezone.utc)


def _number(entity: dict[str, Any], name: str) -> float:
    value = _value(entity, name)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{entity.get('id', '?')}: {name} must be a non-negative number, got {value!r}")
    return float(value)


@dataclass
class _SourceState:
    level: Level = Level.NORMAL
    below_since: datetime | None = None
    detail: dict[str, float] = field(default_factory=dict)
    observed_at: datetime | None = None


class AlertEngine:
    """Turns observations into Alert entities, only when a source's level rises.

    A level is cleared only after readings have stayed below it for `clear_after`, so a
    river hovering around a limit does not raise the same alert again and again.
    """

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self._rain: dict[str, dict[datetime, float]] = {}
        self._states: dict[str, _SourceState] = {}
        self._lock = threading.Lock()
        self.unknown_stations: set[str] = set()

    def observe(self, entity: dict[str, Any]) -> list[dict[str, Any]]:
        """Feed one RainfallObserved or WaterLevelObserved entity; returns new Alert entities."""
        kind = entity.get("type")
        with self._lock:
            if kind == "RainfallObserved":
                return self._observe_rain(entity)
            if kind == "WaterLevelObserved":
                return self._observe_water(entity)
        raise ValueError(f"cannot assess entity type {kind!r}")

    def _observe_rain(self, entity: dict[str, Any]) -> list[dict[str, Any]]:
        gauge, now = entity["id"], _observed_at(entity)
        readings = self._rain.setdefault(gauge, {})
        # Keyed by time: the same observation seen by polling and by notification counts once.
        readings[now] = _number(entity, "precipitation")
        latest = max(readings)
        for moment in [m for m in readings if m <= latest - timedelta(hours=3)]:
            del readings[moment]
        sum_1h = sum(v for m, v in readings.items() if m > latest - timedelta(hours=1))
        sum_3h = sum(readings.values())
        level = max(
            level_for(sum_1h, self.thresholds.rain_1h), level_for(sum_3h, self.thresholds.rain_3h)
        )
        detail = {"rain1hMm": round(sum_1h, 1), "rain3hMm": round(sum_3h, 1)}
        return self._update(entity, latest, level, "heavyRain", detail)

    def _observe_water(self, entity: dict[str, Any]) -> list[dict[str, Any]]:
        station = entity["id"]
        limits = self.thresholds.stations.get(station)
        if limits is None:
            self.unknown_stations.add(station)
            return []
        water_level = _number(entity, "waterLevel")
        detail = {"waterLevelM": water_level}
        return self._update(entity, _observed_at(entity), level_for(water_level, limits), "flood", detail)

    def _update(
        self,
        entity: dict[str, Any],
        now: datetime,
        level: Level,
        sub_category: str,
        detail: dict[str, float],
    ) -> list[dict[str, Any]]:
        state = self._states.setdefault(entity["id"], _SourceState())
        if state.observed_at is not None and now < state.observed_at:
            return []  # late, out-of-order reading: the newer one already decided
        state.observed_at, state.detail = now, detail
        if level > state.level:
            state.level, state.below_since = level, None
            return [make_alert(entity, now, level, sub_category, detail)]
        if level == state.level:
            state.below_since = None
        elif state.below_since is None:
            state.below_since = now
        elif now - state.below_since >= self.thresholds.clear_after:
            state.level, state.below_since = level, None
        return []

    def levels(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                source: {
                    "level": state.level.name.lower(),
                    "levelKo": state.level.korean,
                    "observedAt": state.observed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                    if state.observed_at
                    else None,
                    **state.detail,
                }
                for source, state in sorted(self._states.items())
            }


def make_alert(
    source: dict[str, Any], now: datetime, level: Level, sub_category: str, detail: dict[str, float]
) -> dict[str, Any]:
    """A FIWARE Alert entity; its id is deterministic so the hub rejects duplicates (409)."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    local_id = source["id"].rsplit(":", 1)[-1]
    if sub_category == "heavyRain":
        text_ko = f"[{level.korean}] 호우: 1시간 {detail['rain1hMm']} mm, 3시간 {detail['rain3hMm']} mm"
        text_en = f"heavy rain: {detail['rain1hMm']} mm in 1 h, {detail['rain3hMm']} mm in 3 h"
    else:
        text_ko = f"[{level.korean}] 하천 수위 {detail['waterLevelM']} m"
        text_en = f"river water level {detail['waterLevelM']} m"
    alert: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Alert:flood-alert:{local_id}:{level.name.lower()}:{stamp}",
        "type": "Alert",
        "category": {"type": "Property", "value": "weather"},
        "subCategory": {"type": "Property", "value": sub_category},
        "severity": {"type": "Property", "value": level.severity},
        "dateIssued": {
            "type": "Property",
            "value": {"@type": "DateTime", "@value": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
        },
        "description": {"type": "Property", "value": f"{text_ko} / {level.name.lower()}: {text_en}"},
        "alertSource": {"type": "Relationship", "object": source["id"]},
        "data": {"type": "Property", "value": {"level": level.name.lower(), "levelKo": level.korean, **detail}},
    }
    if isinstance(source.get("location"), dict):
        alert["location"] = {"type": "GeoProperty", "value": source["location"].get("value")}
    return alert
