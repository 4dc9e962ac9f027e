"""Score grid cells by patrol need.

score = Σ severity · ½^(age / half-life) over recent crime reports
        + weight · mean night-time floating population
        − weight · working CCTV cameras in the cell
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .ngsi import Entity, point, value

KST = timezone(timedelta(hours=9))  # Korea has no daylight saving time
METRES_PER_DEGREE = 111_195.0


@dataclass(frozen=True)
class RiskWeights:
    cell_size_m: float = 200.0
    crime_half_life_days: float = 30.0
    crime_lookback_days: float = 180.0
    night_population: float = 0.01  # per person present at night on average
    cctv: float = 0.5  # per working camera in the cell
    night_start_hour: int = 20  # local time (KST)
    night_end_hour: int = 5

    def __post_init__(self) -> None:
        if self.cell_size_m <= 0 or self.crime_half_life_days <= 0 or self.crime_lookback_days <= 0:
            raise ValueError("cell size, half-life and look-back must be positive")
        if not (0 <= self.night_start_hour < 24 and 0 <= self.night_end_hour < 24):
            raise ValueError("night hours must be between 0 and 23")


class LocalGrid:
    """Square cells on an equirectangular projection around an origin; fine at city scale."""

    def __init__(self, origin: tuple[float, float], cell_size_m: float) -> None:
        self.origin = origin
        self.cell_size_m = cell_size_m
        self._x_scale = METRES_PER_DEGREE * math.cos(math.radians(origin[0]))

    def to_xy(self, where: tuple[float, float]) -> tuple[float, float]:
        return (where[1] - self.origin[1]) * self._x_scale, (where[0] - self.origin[0]) * METRES_PER_DEGREE

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        return self.origin[0] + y / METRES_PER_DEGREE, self.origin[1] + x / self._x_scale

    def cell_of(self, where: tuple[float, float]) -> tuple[int, int]:
        x, y = self.to_xy(where)
        return math.floor(x / self.cell_size_m), math.floor(y / self.cell_size_m)

    def centre(self, cell: tuple[int, int]) -> tuple[float, float]:
        return self.to_latlon((cell[0] + 0.5) * self.cell_size_m, (cell[1] + 0.5) * self.cell_size_m)

    def polygon(self, cell: tuple[int, int]) -> list[list[float]]:
        """Closed GeoJSON ring ([lon, lat] pairs) of the cell."""
        size = self.cell_size_m
        corners = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
        ring = [self.to_latlon((cell[0] + dx) * size, (cell[1] + dy) * size) for dx, dy in corners]
        return [[lon, lat] for lat, lon in ring]


@dataclass
class CellRisk:
    cell: tuple[int, int]
    crime: float = 0.0
    night_population: float = 0.0
    cameras: int = 0
    score: float = 0.0


def parse_time(text: str) -> datetime:
    """An ISO 8601 timestamp; naive ones are taken as KST, which is what local feeds send."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=KST)


def is_night(moment: datetime, weights: RiskWeights) -> bool:
    hour = moment.astimezone(KST).hour
    if weights.night_start_hour <= weights.night_end_hour:
        return weights.night_start_hour <= hour < weights.night_end_hour
    return hour >= weights.night_start_hour or hour < weights.night_end_hour


def score_cells(
    grid: LocalGrid,
    crimes: list[Entity],
    cameras: list[Entity],
    population: list[Entity],
    weights: RiskWeights,
    now: datetime,
) -> dict[tuple[int, int], CellRisk]:
    cells: dict[tuple[int, int], CellRisk] = {}

    def cell_at(where: tuple[float, float]) -> CellRisk:
        key = grid.cell_of(where)
        return cells.setdefault(key, CellRisk(key))

    for report in crimes:
        where, reported = point(report), value(report, "reportedAt")
        if where is None or not reported:
            continue
        age_days = max(0.0, (now - parse_time(reported)).total_seconds() / 86_400)
        if age_days > weights.crime_lookback_days:
            continue
        severity = float(value(report, "severity", 1))
        cell_at(where).crime += severity * 0.5 ** (age_days / weights.crime_half_life_days)

    # Counts are split by age group and gender per time slot: sum them, then average over night slots.
    night_slots: set[datetime] = set()
    night_totals: dict[tuple[int, int], float] = defaultdict(float)
    for sample in population:
        where, measured = point(sample), value(sample, "measuredAt")
        if where is None or not measured or not is_night(parse_time(measured), weights):
            continue
        night_slots.add(parse_time(measured))
        night_totals[grid.cell_of(where)] += float(value(sample, "populationCount", 0))
    for key, total in night_totals.items():
        cells.setdefault(key, CellRisk(key)).night_population = total / len(night_slots)

    for camera in cameras:
        where = point(camera)
        # Only cameras known to work reduce the risk; no status means we assume it works.
        if where is not None and value(camera, "status", "active") == "active":
            cell_at(where).cameras += 1

    for risk in cells.values():
        risk.score = risk.crime + weights.night_population * risk.night_population - weights.cctv * risk.cameras
    return dict(cells)


def top_cells(cells: dict[tuple[int, int], CellRisk], k: int) -> list[CellRisk]:
    """The ``k`` riskiest cells with a positive score, riskiest first."""
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    ranked = sorted((c for c in cells.values() if c.score > 0), key=lambda c: (-c.score, c.cell))
    return ranked[:k]
