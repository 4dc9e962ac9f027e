"""safe_patrol against a fake NGSI-LD broker on 127.0.0.1."""
from __future__ import annotations

import itertools
import json
import math
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from safe_patrol.__main__ import main
from safe_patrol.app import create_app
from safe_patrol.ngsi import NgsiLdClient
from safe_patrol.planner import plan_patrol
from safe_patrol.risk import KST, LocalGrid, RiskWeights, is_night, parse_time, score_cells, top_cells
from safe_patrol.tour import nearest_neighbour, plan_tour, tour_length, two_opt

STATION = (35.8250, 128.7410)  # Gyeongsan police station area
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=KST)
GRID = LocalGrid(STATION, 200.0)


def geo(east_m: float, north_m: float) -> dict[str, Any]:
    lat, lon = GRID.to_latlon(east_m, north_m)
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def prop(val: Any) -> dict[str, Any]:
    return {"type": "Property", "value": val}


def crime(ident: str, east: float, north: float, severity: int, days_ago: float) -> dict[str, Any]:
    reported = (NOW - timedelta(days=days_ago)).isoformat()
    return {"id": f"urn:ngsi-ld:CrimeReport:{ident}", "type": "CrimeReport", "location": geo(east, north),
            "severity": prop(severity), "reportedAt": prop(reported), "crimeType": prop("theft")}


def camera(ident: str, east: float, north: float, status: str) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:CctvCamera:{ident}", "type": "CctvCamera", "location": geo(east, north), "status": prop(status)}


def people(ident: str, east: float, north: float, count: int, measured: str) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:FloatingPopulation:{ident}", "type": "FloatingPopulation", "location": geo(east, north),
            "populationCount": prop(count), "measuredAt": prop(measured), "ageGroup": prop("20-29")}


def town() -> list[dict[str, Any]]:
    return [
        crime("a-recent", 100, 100, severity=3, days_ago=30),  # one half-life: 1.5
        crime("a-old", 120, 80, severity=2, days_ago=200),  # beyond the 180-day look-back
        people("b-23h-1", 500, 100, 300, "2024-05-31T23:00:00+09:00"),
        people("b-23h-2", 520, 120, 100, "2024-05-31T23:00:00+09:00"),
        people("b-02h", 510, 90, 200, "2024-05-31T17:00:00Z"),  # 02:00 KST
        people("b-day", 510, 90, 5000, "2024-05-31T14:00:00+09:00"),  # daytime: ignored
        crime("c-now", 100, 500, severity=2, days_ago=0),
        camera("c-1", 90, 510, "active"),
        camera("c-2", 110, 490, "active"),
        camera("c-broken", 100, 500, "inactive"),
        camera("d-only", -300, -300, "active"),
    ]


def split(entities: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in entities if e["type"] == kind]


def test_cell_scores_combine_decayed_crime_night_population_and_cameras() -> None:
    entities = town()
    cells = score_cells(GRID, split(entities, "CrimeReport"), split(entities, "CctvCamera"),
                        split(entities, "FloatingPopulation"), RiskWeights(), NOW)
    assert cells[(0, 0)].crime == pytest.approx(1.5)
    assert cells[(2, 0)].night_population == pytest.approx(300.0)  # (300 + 100 + 200) / 2 night slots
    assert cells[(2, 0)].score == pytest.approx(3.0)
    assert (cells[(0, 2)].cameras, cells[(0, 2)].score) == (2, pytest.approx(1.0))
    assert cells[(-2, -2)].score == pytest.approx(-0.5)
    assert [c.cell for c in top_cells(cells, 10)] == [(2, 0), (0, 0), (0, 2)]
    assert [c.cell for c in top_cells(cells, 1)] == [(2, 0)]
    with pytest.raises(ValueError, match="k must be positive"):
        top_cells(cells, 0)


def test_night_is_judged_in_korean_time() -> None:
    weights = RiskWeights()
    assert is_night(parse_time("2024-06-01T14:30:00Z"), weights)  # 23:30 KST
    assert not is_night(parse_time("2024-06-01T03:00:00Z"), weights)  # 12:00 KST
    assert is_night(parse_time("2024-06-01T04:59:00"), weights)  # naive means KST
    assert not is_night(parse_time("2024-06-01T05:00:00"), weights)


def test_grid_cells_are_the_requested_size() -> None:
    ring = GRID.polygon((3, -1))
    assert ring[0] == ring[-1] and len(ring) == 5
    x0, y0 = GRID.to_xy((ring[0][1], ring[0][0]))
    x2, y2 = GRID.to_xy((ring[2][1], ring[2][0]))
    assert (x0, y0, x2 - x0, y2 - y0) == pytest.approx((600, -200, 200, 200))
    assert GRID.cell_of(GRID.centre((3, -1))) == (3, -1)


def test_two_opt_finds_the_convex_tour() -> None:
    # Points on a circle: the optimal closed tour goes round the circle.
    circle = [(1000 * math.cos(a), 1000 * math.sin(a)) for a in (2 * math.pi * i / 9 for i in range(9))]
    rng = random.Random(7)
    points = circle[:1] + rng.sample(circle[1:], 8)
    order = plan_tour(points)
    assert order[0] == 0 and sorted(order) == list(range(9))
    assert tour_length(points, order) == pytest.approx(9 * 2 * 1000 * math.sin(math.pi / 9))


def test_two_opt_never_worse_than_nearest_neighbour_and_matches_brute_force_on_small_sets() -> None:
    rng = random.Random(11)
    for _ in range(20):
        points = [(rng.uniform(0, 2000), rng.uniform(0, 2000)) for _ in range(7)]
        greedy = nearest_neighbour(points)
        improved = two_opt(points, greedy)
        best = min(tour_length(points, [0, *rest]) for rest in itertools.permutations(range(1, 7)))
        assert tour_length(points, improved) <= tour_length(points, greedy) + 1e-9
        # 2-opt is a heuristic; on 7 random points it stays within 10 % of the optimum.
        assert tour_length(points, improved) <= best * 1.10


def test_plan_patrol_builds_geojson_from_the_hub(fake_broker: Any) -> None:
    broker = fake_broker(town(), max_page=3)
    collection = plan_patrol(NgsiLdClient(broker.url, page_size=3), STATION, k=3, now=NOW)
    start, route, *cells = collection["features"]
    assert start["geometry"]["coordinates"] == [STATION[1], STATION[0]]
    line = route["geometry"]["coordinates"]
    assert line[0] == pytest.approx(line[-1]) and line[0] == pytest.approx([STATION[1], STATION[0]])
    assert route["properties"]["stops"] == 3 and len(line) == 5
    assert [c["properties"]["visitOrder"] for c in cells] == [1, 2, 3]
    assert sorted((c["properties"]["rank"], c["properties"]["score"]) for c in cells) == [(1, 3.0), (2, 1.5), (3, 1.0)]
    # Station at (0, 0) m, then the centres of cells (2, 0), (0, 0), (0, 2): the planner must find the shortest loop.
    centres = [(0.0, 0.0), (500.0, 100.0), (100.0, 100.0), (100.0, 500.0)]
    expected = min(tour_length(centres, [0, *p]) for p in itertools.permutations([1, 2, 3]))
    assert route["properties"]["lengthM"] == pytest.approx(expected, abs=0.1)


def test_http_api(fake_broker: Any) -> None:
    broker = fake_broker(town())
    http = create_app(NgsiLdClient(broker.url), clock=lambda: NOW).test_client()
    ok = http.get(f"/route.geojson?start={STATION[0]},{STATION[1]}&k=2")
    assert ok.status_code == 200 and ok.mimetype == "application/geo+json"
    assert [f["properties"]["kind"] for f in ok.get_json()["features"]] == ["start", "route", "cell", "cell"]
    assert http.get("/route.geojson").status_code == 400
    assert "latitude,longitude" in http.get("/route.geojson?start=35.8").get_json()["error"]
    assert http.get(f"/route.geojson?start={STATION[0]},{STATION[1]}&k=0").status_code == 400
    down = create_app(NgsiLdClient("http://127.0.0.1:9"), clock=lambda: NOW).test_client()
    assert down.get(f"/route.geojson?start={STATION[0]},{STATION[1]}").status_code == 502


def test_cli_writes_geojson(fake_broker: Any, tmp_path: Any, capsys: Any) -> None:
    broker = fake_broker(town())
    out = tmp_path / "patrol.geojson"
    args = ["--hub", broker.url, "route", "--start", f"{STATION[0]},{STATION[1]}", "-k", "1"]
    assert main([*args, "--now", NOW.isoformat(), "-o", str(out)]) == 0
    cells = [f for f in json.loads(out.read_text())["features"] if f["properties"]["kind"] == "cell"]
    assert [c["properties"]["score"] for c in cells] == [3.0]
    assert main([*args, "--now", "2024-06-01T12:00:00"]) == 1
    assert "needs a time zone" in capsys.readouterr().err
