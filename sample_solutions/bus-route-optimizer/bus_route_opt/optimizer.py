"""Choose the stops to keep under a maximum route length.

Greedy: both terminals stay; then repeatedly add the stop that covers the most new demand per
extra kilometre of route, as long as the route stays within the limit. Demand is covered when
it lies within walking distance of a kept stop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .network import DemandPoint, Stop
from .ngsi import haversine_m


@dataclass(frozen=True)
class Plan:
    kept: list[Stop]
    dropped: list[Stop]
    length_before_km: float
    length_after_km: float
    coverage_before_pct: float
    coverage_after_pct: float
    demand_in_area: float

    def to_json(self) -> dict[str, Any]:
        return {
            "keptStops": [stop.id for stop in self.kept],
            "droppedStops": [stop.id for stop in self.dropped],
            "before": {"stops": len(self.kept) + len(self.dropped), "lengthKm": round(self.length_before_km, 3),
                       "coveragePct": round(self.coverage_before_pct, 2)},
            "after": {"stops": len(self.kept), "lengthKm": round(self.length_after_km, 3),
                      "coveragePct": round(self.coverage_after_pct, 2)},
            "demandInArea": round(self.demand_in_area, 1),
        }


def path_km(stops: list[Stop]) -> float:
    return sum(haversine_m(a.location, b.location) for a, b in zip(stops, stops[1:])) / 1000


def optimise(
    stops: list[Stop],
    demand: list[DemandPoint],
    max_length_km: float,
    *,
    walk_radius_m: float = 400.0,
    area_radius_m: float = 1000.0,
) -> Plan:
    """Stops to keep (in route order) and coverage of the demand within ``area_radius_m`` of the route."""
    if len(stops) < 2:
        raise ValueError("a route needs at least two stops")
    if not 0 < walk_radius_m <= area_radius_m:
        raise ValueError("walk radius must be positive and no larger than the area radius")
    direct_km = path_km([stops[0], stops[-1]])
    if max_length_km < direct_km:
        raise ValueError(f"max length {max_length_km} km is shorter than the {direct_km:.2f} km between the terminals")

    area = [p for p in demand if any(haversine_m(p.location, s.location) <= area_radius_m for s in stops)]
    # walkers[i]: indices of area demand points within walking distance of stop i
    walkers = [{j for j, p in enumerate(area) if haversine_m(p.location, s.location) <= walk_radius_m} for s in stops]

    kept = {0, len(stops) - 1}
    covered = walkers[0] | walkers[-1]
    length_m = haversine_m(stops[0].location, stops[-1].location)
    while True:
        best: tuple[float, float, int, float] | None = None  # (ratio, gain, -index, extra metres)
        ordered = sorted(kept)
        for i in set(range(len(stops))) - kept:
            before = max(k for k in ordered if k < i)
            after = min(k for k in ordered if k > i)
            extra_m = (haversine_m(stops[before].location, stops[i].location)
                       + haversine_m(stops[i].location, stops[after].location)
                       - haversine_m(stops[before].location, stops[after].location))
            gain = sum(area[j].population for j in walkers[i] - covered)
            if gain <= 0 or length_m + extra_m > max_length_km * 1000 + 1e-6:
                continue
            # A stop on the straight line costs nothing; count it as 1 m so the ratio stays finite.
            candidate = (gain / max(extra_m / 1000, 0.001), gain, -i, extra_m)
            if best is None or candidate[:3] > best[:3]:
                best = candidate
        if best is None:
            break
        index = -best[2]
        kept.add(index)
        covered |= walkers[index]
        length_m += best[3]

    total = sum(p.population for p in area)
    all_covered = set().union(*walkers)

    def pct(indices: set[int]) -> float:
        return 100 * sum(area[j].population for j in indices) / total if total else 0.0

    kept_stops = [stops[i] for i in sorted(kept)]
    return Plan(
        kept=kept_stops,
        dropped=[stop for i, stop in enumerate(stops) if i not in kept],
        length_before_km=path_km(stops),
        length_after_km=path_km(kept_stops),
        coverage_before_pct=pct(all_covered),
        coverage_after_pct=pct(covered),
        demand_in_area=total,
    )
