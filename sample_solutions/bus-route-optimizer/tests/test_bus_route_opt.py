"""bus_route_opt against a fake NGSI-LD broker on 127.0.0.1."""
from __future__ import annotations

import json
import math
from typing import Any

import pytest
from bus_route_opt.__main__ import main
from bus_route_opt.app import create_app
from bus_route_opt.network import DemandPoint, Stop, demand_points, route_stops
from bus_route_opt.ngsi import NgsiLdClient
from bus_route_opt.optimizer import optimise

TERMINAL = (37.1641, 128.9856)  # Taebaek bus terminal area
ROUTE = "urn:ngsi-ld:GtfsRoute:taebaek-1"


def latlon(east_m: float, north_m: float) -> tuple[float, float]:
    return (TERMINAL[0] + north_m / 111_195.0,
            TERMINAL[1] + east_m / (111_195.0 * math.cos(math.radians(TERMINAL[0]))))


def geo(east_m: float, north_m: float) -> dict[str, Any]:
    lat, lon = latlon(east_m, north_m)
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def prop(val: Any) -> dict[str, Any]:
    return {"type": "Property", "value": val}


def rel(target: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


# Stops along the route (metres east, north): T0 and T1 are terminals, B is a detour to a village.
STOPS = {"T0": (0, 0), "A": (1000, 0), "B": (2000, 600), "C": (3000, 0), "T1": (4000, 0)}
# Floating population per place, measured in two time slots (the optimiser uses the mean).
PEOPLE = {
    "T0": ((0, 100), 100),
    "A": ((1000, 100), 5),
    "B": ((2000, 700), 500),
    "T1": ((4000, 0), 100),
    "between": ((1500, -700), 40),  # inside the 1 km area, out of walking reach of every stop
    "far": ((2000, 5000), 9999),  # outside the area: ignored
}


def network() -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = [
        {"id": ROUTE, "type": "GtfsRoute", "shortName": prop("1"), "name": prop("터미널-장성")},
        {"id": "urn:ngsi-ld:GtfsRoute:other", "type": "GtfsRoute", "shortName": prop("2")},
        {"id": "urn:ngsi-ld:GtfsTrip:express", "type": "GtfsTrip", "hasRoute": rel(ROUTE)},
        {"id": "urn:ngsi-ld:GtfsTrip:all-stops", "type": "GtfsTrip", "hasRoute": rel(ROUTE)},
        {"id": "urn:ngsi-ld:GtfsTrip:other", "type": "GtfsTrip", "hasRoute": rel("urn:ngsi-ld:GtfsRoute:other")},
    ]
    for name, (east, north) in STOPS.items():
        entities.append({"id": f"urn:ngsi-ld:GtfsStop:{name}", "type": "GtfsStop", "name": prop(f"{name} 정류장"), "location": geo(east, north)})
    # Stop times deliberately out of order in id order, to check sorting by stopSequence.
    for seq, name in reversed(list(enumerate(STOPS, start=1))):
        entities.append({"id": f"urn:ngsi-ld:GtfsStopTime:all-{name}", "type": "GtfsStopTime", "stopSequence": prop(seq),
                         "hasTrip": rel("urn:ngsi-ld:GtfsTrip:all-stops"), "hasStop": rel(f"urn:ngsi-ld:GtfsStop:{name}")})
    for seq, name in enumerate(["T0", "T1"], start=1):
        entities.append({"id": f"urn:ngsi-ld:GtfsStopTime:express-{name}", "type": "GtfsStopTime", "stopSequence": prop(seq),
                         "hasTrip": rel("urn:ngsi-ld:GtfsTrip:express"), "hasStop": rel(f"urn:ngsi-ld:GtfsStop:{name}")})
    for name, ((east, north), mean) in PEOPLE.items():
        for slot, share in (("2024-03-04T08:00:00+09:00", 0.8), ("2024-03-04T18:00:00+09:00", 1.2)):
            entities.append({"id": f"urn:ngsi-ld:FloatingPopulation:{name}-{slot[11:13]}", "type": "FloatingPopulation",
                             "location": geo(east, north), "populationCount": prop(round(mean * share)), "measuredAt": prop(slot)})
    return entities


def test_route_stops_follow_the_longest_trip_in_sequence_order(fake_broker: Any) -> None:
    broker = fake_broker(network(), max_page=4)
    stops = route_stops(NgsiLdClient(broker.url, page_size=4), ROUTE)
    assert [s.id.rsplit(":", 1)[1] for s in stops] == ["T0", "A", "B", "C", "T1"]
    assert stops[2].location == pytest.approx(latlon(2000, 600))
    with pytest.raises(LookupError, match="no GtfsRoute"):
        route_stops(NgsiLdClient(broker.url), "urn:ngsi-ld:GtfsRoute:missing")


def test_demand_is_the_mean_over_time_slots(fake_broker: Any) -> None:
    broker = fake_broker(network())
    points = demand_points(NgsiLdClient(broker.url))
    village = next(p for p in points if p.location == pytest.approx(latlon(2000, 700)))
    assert village.population == 500  # (400 + 600) / 2 slots
    assert len(points) == len(PEOPLE)


def test_plan_with_room_for_the_detour(fake_broker: Any) -> None:
    client = NgsiLdClient(fake_broker(network()).url)
    plan = optimise(route_stops(client, ROUTE), demand_points(client), max_length_km=4.5)
    # C serves nobody and is dropped; the B detour adds 254 m and fits.
    assert [s.id.rsplit(":", 1)[1] for s in plan.kept] == ["T0", "A", "B", "T1"]
    assert [s.id.rsplit(":", 1)[1] for s in plan.dropped] == ["C"]
    assert plan.length_before_km == pytest.approx(1 + 2 * math.hypot(1000, 600) / 1000 + 1, abs=0.005)
    assert plan.length_after_km == pytest.approx((1000 + math.hypot(1000, 600) + math.hypot(2000, 600)) / 1000, abs=0.005)
    assert plan.demand_in_area == pytest.approx(745)
    assert plan.coverage_before_pct == pytest.approx(100 * 705 / 745)
    assert plan.coverage_after_pct == pytest.approx(100 * 705 / 745)


def test_plan_without_room_for_the_detour(fake_broker: Any) -> None:
    client = NgsiLdClient(fake_broker(network()).url)
    plan = optimise(route_stops(client, ROUTE), demand_points(client), max_length_km=4.2)
    assert [s.id.rsplit(":", 1)[1] for s in plan.kept] == ["T0", "A", "T1"]
    assert plan.length_after_km <= 4.2
    assert plan.coverage_after_pct == pytest.approx(100 * 205 / 745)


def test_greedy_prefers_demand_per_km_over_raw_demand() -> None:
    stops = [Stop("start", "", latlon(0, 0)), Stop("big", "", latlon(1000, 1000)),
             Stop("cheap", "", latlon(2000, 300)), Stop("end", "", latlon(4000, 0))]
    demand = [DemandPoint(latlon(1000, 1000), 300), DemandPoint(latlon(2000, 300), 200)]
    # big: 300 people for 577 m extra; cheap: 200 people for 45 m extra. Either fits under 4.6 km, not both;
    # picking by raw demand would keep "big" (60 % coverage), demand per km keeps "cheap".
    plan = optimise(stops, demand, max_length_km=4.6)
    assert [s.id for s in plan.kept] == ["start", "cheap", "end"]
    assert plan.coverage_after_pct == pytest.approx(40.0)
    assert [s.id for s in optimise(stops, demand, max_length_km=6).kept] == ["start", "big", "cheap", "end"]


def test_bad_limits_are_explained() -> None:
    stops = [Stop("a", "", latlon(0, 0)), Stop("b", "", latlon(3000, 0))]
    with pytest.raises(ValueError, match="shorter than the 3.00 km between the terminals"):
        optimise(stops, [], max_length_km=2)
    with pytest.raises(ValueError, match="at least two stops"):
        optimise(stops[:1], [], max_length_km=2)
    with pytest.raises(ValueError, match="walk radius"):
        optimise(stops, [], max_length_km=5, walk_radius_m=2000, area_radius_m=1000)


def test_http_api(fake_broker: Any) -> None:
    http = create_app(NgsiLdClient(fake_broker(network()).url)).test_client()
    assert [r["shortName"] for r in http.get("/routes").get_json()] == ["2", "1"]
    result = http.get(f"/routes/{ROUTE}/plan?maxKm=4.5").get_json()
    assert result["before"] == {"stops": 5, "lengthKm": pytest.approx(4.332, abs=0.001), "coveragePct": 94.63}
    assert result["after"]["stops"] == 4 and result["droppedStops"] == ["urn:ngsi-ld:GtfsStop:C"]
    assert http.get(f"/routes/{ROUTE}/plan").status_code == 400
    assert http.get(f"/routes/{ROUTE}/plan?maxKm=1").status_code == 400
    assert http.get("/routes/urn:ngsi-ld:GtfsRoute:nope/plan?maxKm=5").status_code == 404
    down = create_app(NgsiLdClient("http://127.0.0.1:9")).test_client()
    assert down.get("/routes").status_code == 502


def test_cli(fake_broker: Any, capsys: Any) -> None:
    broker = fake_broker(network())
    assert main(["--hub", broker.url, "plan", "--route", ROUTE, "--max-km", "4.2"]) == 0
    assert json.loads(capsys.readouterr().out)["after"]["coveragePct"] == 27.52
    assert main(["--hub", broker.url, "plan", "--route", ROUTE, "--max-km", "3"]) == 1
    assert "shorter than" in capsys.readouterr().err
