"""Runs the dispatcher against a fake NGSI-LD broker on 127.0.0.1 and checks real plans."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from drt_dispatch.__main__ import main
from drt_dispatch.fleet import FleetConfig, request_from_entity
from drt_dispatch.hub import NgsiLdClient
from drt_dispatch.planner import Point, Request, Settings, Vehicle, dispatch
from drt_dispatch.service import run_dispatch

# Taebaek city hall; one km along the meridian is 1/111.195 degrees of latitude.
LAT0, LON0 = 37.1640, 128.9860
KM = 1 / 111.195
# 30 km/h on straight roads and no dwell time: every kilometre takes exactly two minutes.
SIMPLE = Settings(speed_kmh=30, road_factor=1.0, dwell_minutes=0, aid_dwell_minutes=0,
                  max_wait_minutes=15, max_ride_factor=2.0, ride_slack_minutes=10, window_minutes=30)


def north(km: float) -> Point:
    return Point(LAT0 + km * KM, LON0)


def at(hour: int, minute: int) -> datetime:
    return datetime(2023, 5, 2, hour, minute, tzinfo=timezone.utc)


def req(rid: str, start_km: float, end_km: float, when: datetime, passengers: int = 1,
        aid: bool = False, assigned: str | None = None) -> Request:
    return Request(rid, north(start_km), north(end_km), when, passengers, aid, assigned)


def van(vid: str, km: float, capacity: int = 6, accessible: bool = False) -> Vehicle:
    return Vehicle(vid, north(km), capacity, accessible)


def stops_of(result, vehicle_id: str) -> list[tuple[str, str, str]]:
    plan = next(p for p in result.to_json()["vehicles"] if p["vehicle"] == vehicle_id)
    return [(s["request"], s["action"], s["eta"][11:16]) for s in plan["stops"]]


def test_pooling_on_the_same_corridor_costs_no_detour():
    result = dispatch([req("r1", 1, 5, at(9, 0)), req("r2", 2, 4, at(9, 2))],
                      [van("v1", 0)], at(8, 58), SIMPLE)
    assert stops_of(result, "v1") == [
        ("r1", "pickup", "09:00"), ("r2", "pickup", "09:02"),
        ("r2", "dropoff", "09:06"), ("r1", "dropoff", "09:08"),
    ]
    assert result.to_json()["vehicles"][0]["drivingMinutes"] == pytest.approx(10.0, abs=0.05)


def test_cheapest_vehicle_wins_and_far_vehicle_would_be_late():
    result = dispatch([req("r", 19, 21, at(9, 0))], [van("v1", 0), van("v2", 20)], at(8, 50), SIMPLE)
    assert result.assignments == {"r": "v2"}


def test_ride_time_limit_shapes_the_insertion():
    tight = Settings(**{**SIMPLE.__dict__, "max_ride_factor": 1.5, "ride_slack_minutes": 0})
    result = dispatch([req("r1", 1, 3, at(9, 0)), req("r2", 1, 0, at(9, 0))],
                      [van("v1", 0)], at(8, 58), tight)
    # Sharing the ride would push one passenger past 1.5 x the direct time, so r2 is
    # driven home first and r1 is collected four minutes after its booked time.
    assert stops_of(result, "v1") == [
        ("r2", "pickup", "09:00"), ("r2", "dropoff", "09:02"),
        ("r1", "pickup", "09:04"), ("r1", "dropoff", "09:08"),
    ]


def test_mobility_aid_needs_an_accessible_vehicle():
    fleet = [van("v1", 0), van("lift", 5, capacity=4, accessible=True)]
    aid = dispatch([req("aid", 1, 3, at(9, 0), aid=True)], fleet, at(8, 50), SIMPLE)
    walk = dispatch([req("walk", 1, 3, at(9, 0))], fleet, at(8, 50), SIMPLE)
    assert aid.assignments == {"aid": "lift"}  # although v1 is closer
    assert walk.assignments == {"walk": "v1"}
    only_minivans = dispatch([req("aid", 1, 3, at(9, 0), aid=True)], [van("v1", 0)], at(8, 50), SIMPLE)
    assert only_minivans.unassigned == {"aid": "no vehicle with enough seats and wheelchair access"}


def test_mobility_aid_requests_are_served_first_when_vehicles_are_scarce():
    requests = [req("early", 5, 6, at(9, 0), passengers=3), req("aid", -5, -6, at(9, 5), aid=True)]
    result = dispatch(requests, [van("lift", 0, capacity=4, accessible=True)], at(8, 50), SIMPLE)
    assert result.assignments == {"aid": "lift"}
    assert result.unassigned == {"early": "no vehicle can meet the wait and ride-time limits"}


def test_seats_are_never_exceeded():
    requests = [req("big", 7, 8, at(9, 0), passengers=7)] + [
        req(f"g{i}", 1, 4, at(9, 0), passengers=4) for i in range(2)
    ]
    result = dispatch(requests, [van("v1", 0), van("v2", 0.5)], at(8, 55), SIMPLE)
    assert result.unassigned["big"] == "no vehicle with enough seats"
    assert sorted(result.assignments.values()) == ["v1", "v2"]  # 4 + 4 > 6 seats
    for plan in result.to_json()["vehicles"]:
        assert all(0 <= stop["loadAfter"] <= 6 for stop in plan["stops"])


def test_windows_are_planned_in_order_and_vehicles_continue_from_their_last_stop():
    result = dispatch([req("later", 3, 0, at(9, 40)), req("first", 1, 3, at(9, 0))],
                      [van("v1", 0)], at(8, 58), SIMPLE)
    assert stops_of(result, "v1") == [
        ("first", "pickup", "09:00"), ("first", "dropoff", "09:04"),
        ("later", "pickup", "09:40"), ("later", "dropoff", "09:46"),
    ]


def test_committed_requests_keep_their_vehicle():
    result = dispatch([req("kept", 1, 3, at(9, 0), assigned="v2")],
                      [van("v1", 0), van("v2", 4)], at(8, 50), SIMPLE)
    assert result.assignments == {"kept": "v2"}


# --- against the fake broker -------------------------------------------------------------


def point(km: float) -> dict:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [LON0, LAT0 + km * KM]}}


def drt_request(rid: str, start: float, end: float, when: str, **extra) -> dict:
    entity = {
        "id": f"urn:ngsi-ld:DrtRequest:{rid}", "type": "DrtRequest",
        "origin": point(start), "destination": point(end),
        "requestedTime": {"type": "Property", "value": {"@type": "DateTime", "@value": when}},
        "passengerCount": {"type": "Property", "value": 1},
        "mobilityAid": {"type": "Property", "value": False},
        "status": {"type": "Property", "value": "requested"},
    }
    entity.update(extra)
    return entity


def vehicle(vid: str, km: float, vehicle_type: str, status: str = "parked") -> dict:
    return {
        "id": f"urn:ngsi-ld:Vehicle:{vid}", "type": "Vehicle", "location": point(km),
        "vehicleType": {"type": "Property", "value": vehicle_type},
        "serviceStatus": {"type": "Property", "value": status},
    }


class FakeBroker:
    def __init__(self, entities: list[dict]) -> None:
        self.entities = {e["id"]: e for e in entities}
        self.patches: list[tuple[str, dict]] = []
        self.offsets: list[str] = []
        broker = self

        class Handler(BaseHTTPRequestHandler):
            def reply(self, status: int, body: object = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                if data:
                    self.send_header("Content-Type", "application/ld+json")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                broker.offsets.append(query["offset"])
                matching = [e for e in broker.entities.values() if e["type"] == query["type"]]
                offset, limit = int(query["offset"]), int(query["limit"])
                self.reply(200, matching[offset : offset + limit])

            def do_PATCH(self) -> None:
                entity_id = unquote(self.path.split("/")[4])
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if entity_id not in broker.entities:
                    self.reply(404, {"title": "not found"})
                    return
                broker.patches.append((entity_id, body))
                broker.entities[entity_id].update(body)
                self.reply(204)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> "FakeBroker":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def broker():
    entities = [
        drt_request("kim", 10, 12, "2023-05-02T18:00:00+09:00"),
        drt_request("lee", 2, 0, "2023-05-02T18:05:00+09:00",
                    mobilityAid={"type": "Property", "value": True}),
        drt_request("park", 1, 2, "2023-05-02T18:00:00"),  # no time zone: rejected
        drt_request("done", 1, 2, "2023-05-02T18:00:00Z",
                    status={"type": "Property", "value": "completed"}),
        vehicle("taebaek-drt-01", 9, "minivan"),
        vehicle("taebaek-drt-02", 0, "minibus", status="broken"),
        vehicle("taebaek-drt-03", 0.5, "minivan"),  # converted: accessible per fleet file
        vehicle("taebaek-truck", 0, "lorry"),
    ]
    with FakeBroker(entities) as running:
        yield running


def test_run_writes_assignments_back(broker):
    fleet = FleetConfig.load()
    client = NgsiLdClient(broker.url, page_size=2)
    report = run_dispatch(client, fleet, datetime(2023, 5, 2, 8, 50, tzinfo=timezone.utc))
    assert dict(broker.patches) == {
        "urn:ngsi-ld:DrtRequest:kim": {
            "status": {"type": "Property", "value": "assigned"},
            "assignedVehicle": {"type": "Relationship", "object": "urn:ngsi-ld:Vehicle:taebaek-drt-01"},
        },
        "urn:ngsi-ld:DrtRequest:lee": {
            "status": {"type": "Property", "value": "assigned"},
            "assignedVehicle": {"type": "Relationship", "object": "urn:ngsi-ld:Vehicle:taebaek-drt-03"},
        },
    }
    assert report["rejectedRequests"] == [
        {"request": "urn:ngsi-ld:DrtRequest:park",
         "reason": "urn:ngsi-ld:DrtRequest:park: requestedTime needs a time zone"}
    ]
    assert report["vehiclesSkipped"] == ["urn:ngsi-ld:Vehicle:taebaek-drt-02", "urn:ngsi-ld:Vehicle:taebaek-truck"]
    assert "2" in broker.offsets and "4" in broker.offsets  # paged with limit=2
    # A second run keeps the committed requests and writes nothing new.
    again = run_dispatch(client, fleet, datetime(2023, 5, 2, 8, 50, tzinfo=timezone.utc))
    assert again["newlyAssigned"] == [] and len(broker.patches) == 2


def test_cli_dry_run_prints_schedules_without_writing(broker, capsys):
    code = main(["--hub", broker.url, "--shift-start", "2023-05-02T17:50:00+09:00", "--dry-run"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dryRun"] is True and broker.patches == []
    assert report["newlyAssigned"] == ["urn:ngsi-ld:DrtRequest:kim", "urn:ngsi-ld:DrtRequest:lee"]


def test_bad_fleet_file_is_reported(tmp_path, broker, capsys):
    bad = tmp_path / "fleet.yaml"
    bad.write_text("vehicleTypes:\n  minivan: {capacity: 0}\n", encoding="utf-8")
    assert main(["--hub", broker.url, "--fleet", str(bad)]) == 2
    assert "positive integer 'capacity'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="GeoJSON Point"):
        request_from_entity(
            drt_request("x", 0, 0, "2023-05-02T09:00:00Z", origin={"type": "GeoProperty", "value": "here"})
        )
