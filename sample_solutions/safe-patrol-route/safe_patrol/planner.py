"""Fetch the data, score the grid and plan the patrol; the result is a GeoJSON FeatureCollection."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from .ngsi import NgsiLdClient
from .risk import LocalGrid, RiskWeights, score_cells, top_cells
from .tour import plan_tour, tour_length


def plan_patrol(
    client: NgsiLdClient,
    start: tuple[float, float],
    *,
    k: int = 10,
    weights: RiskWeights = RiskWeights(),
    now: datetime,
) -> dict[str, Any]:
    if not (-90 <= start[0] <= 90 and -180 <= start[1] <= 180):
        raise ValueError(f"start is not a WGS84 coordinate: {start}")
    grid = LocalGrid(start, weights.cell_size_m)
    cells = score_cells(
        grid,
        client.entities("CrimeReport"),
        client.entities("CctvCamera"),
        client.entities("FloatingPopulation"),
        weights,
        now,
    )
    chosen = top_cells(cells, k)
    stops = [grid.to_xy(start)] + [grid.to_xy(grid.centre(c.cell)) for c in chosen]
    order = plan_tour(stops)
    route = [grid.to_latlon(*stops[i]) for i in order + [0]]

    features: list[dict[str, Any]] = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [start[1], start[0]]}, "properties": {"kind": "start"}},
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in route]},
            "properties": {"kind": "route", "lengthM": round(tour_length(stops, order), 1), "stops": len(chosen)},
        },
    ]
    for visit, index in enumerate(order[1:], start=1):
        risk = chosen[index - 1]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [grid.polygon(risk.cell)]},
                "properties": {
                    "kind": "cell",
                    "visitOrder": visit,
                    "rank": index,
                    "score": round(risk.score, 3),
                    "crime": round(risk.crime, 3),
                    "nightPopulation": round(risk.night_population, 1),
                    "cameras": risk.cameras,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
