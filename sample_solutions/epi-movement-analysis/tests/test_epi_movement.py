"""Runs the real analysis against a fake NGSI-LD broker on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from epi_movement.__main__ import main
from epi_movement.analysis import analyse, estimate_flows, parse_time
from epi_movement.app import create_app
from epi_movement.hub import HubError, NgsiLdClient

A, B, C = "4729051000", "4729052000", "4729053000"
OUTSIDE = "4711000000"
START = datetime(2022, 3, 8, tzinfo=timezone.utc)
END = START + timedelta(hours=3)
BASE = {A: 100, B: 200, C: 50}
# Day-to-day variation of the baseline week, scaled per area (A: std 5.98).
OFFSETS = [-10, 10, -5, 5, 0, 0, 0]
SCALE = {A: 1.0, B: 2.0, C: 0.5}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def entity(entity_id: str, area_code: str, readings: list[tuple[datetime, float]]) -> dict:
    return {
        "id": entity_id,
        "type": "FloatingPopulation",
        "areaCode": [{"type": "Property", "value": area_code}],
        "populationCount": [
            {"type": "Property", "value": value, "observedAt": iso(moment)}
            for moment, value in readings
        ],
    }


def dataset() -> list[dict]:
    readings: dict[str, list[tuple[datetime, float]]] = {A: [], B: [], C: []}
    for day in range(7):
        for hour in (0, 1, 2, 23):
            moment = START - timedelta(days=7) + timedelta(days=day, hours=hour)
            for code in readings:
                readings[code].append((moment, BASE[code] + OFFSETS[day] * SCALE[code]))
    # The analysis window: A gains 60 people at 01:00 (30 from B, 10 from C, 20 from outside)
    # and loses 30 to outside at 02:00.
    window = {A: [100, 160, 130], B: [200, 170, 170], C: [50, 40, 40]}
    for code, values in window.items():
        for hour, value in enumerate(values):
            readings[code].append((START + timedelta(hours=hour), value))
    # A is published as two age-group strata; the second reports twice in 01:00-02:00.
    a_first = [(moment, value * 0.75) for moment, value in readings[A]]
    a_second = []
    for moment, value in readings[A]:
        if moment == START + timedelta(hours=1):
            a_second += [(moment, value * 0.25 - 5), (moment + timedelta(minutes=30), value * 0.25 + 5)]
        else:
            a_second.append((moment, value * 0.25))
    return [
        entity("urn:ngsi-ld:FloatingPopulation:A-20s", A, a_first),
        entity("urn:ngsi-ld:FloatingPopulation:A-30s", A, a_second),
        entity("urn:ngsi-ld:FloatingPopulation:B", B, readings[B]),
        entity("urn:ngsi-ld:FloatingPopulation:C", C, readings[C]),
        entity("urn:ngsi-ld:FloatingPopulation:outside", OUTSIDE, [(START, 9999.0)]),
    ]


class FakeBroker:
    """Serves the temporal API for a fixed set of entities, with limit/offset paging."""

    def __init__(self, entities: list[dict]) -> None:
        self.entities = entities
        self.requests: list[tuple[str, dict, dict]] = []
        broker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                broker.requests.append((url.path, query, dict(self.headers)))
                if url.path != "/ngsi-ld/v1/temporal/entities":
                    self.send_error(404)
                    return
                body = broker.query(query)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def query(self, query: dict) -> list[dict]:
        low, high = parse_time(query["timeAt"]), parse_time(query["endTimeAt"])
        matching = []
        for item in self.entities:
            if item["type"] != query["type"]:
                continue
            instances = [
                i for i in item["populationCount"] if low <= parse_time(i["observedAt"]) < high
            ]
            if instances:
                matching.append({**item, "populationCount": instances})
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
        return matching[offset : offset + limit]

    def __enter__(self) -> "FakeBroker":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def broker():
    with FakeBroker(dataset()) as running:
        yield running


def run(broker: FakeBroker, **options) -> dict:
    client = NgsiLdClient(broker.url, page_size=2)
    return analyse(client, area_prefix="47290", start=START, end=END, **options)


def test_net_changes_per_area_and_hour(broker):
    report = run(broker)
    areas = {area["areaCode"]: area["hours"] for area in report["areas"]}
    assert OUTSIDE not in areas
    assert [(h["population"], h["netInflow"], h["netOutflow"]) for h in areas[A]] == [
        (100, 0, 0),
        (160, 60, 0),
        (130, 0, 30),
    ]
    assert [h["population"] for h in areas[B]] == [200, 170, 170]


def test_flows_are_estimated_from_losses_to_gains(broker):
    report = run(broker)
    assert report["flows"] == [
        {"hour": "2022-03-08T01:00:00Z", "from": B, "to": A, "people": 30},
        {"hour": "2022-03-08T01:00:00Z", "from": C, "to": A, "people": 10},
    ]
    assert report["boundary"] == [
        {"hour": "2022-03-08T00:00:00Z", "inflowFromOutside": 0, "outflowToOutside": 0},
        {"hour": "2022-03-08T01:00:00Z", "inflowFromOutside": 20, "outflowToOutside": 0},
        {"hour": "2022-03-08T02:00:00Z", "inflowFromOutside": 0, "outflowToOutside": 30},
    ]


def test_small_counts_are_suppressed(broker):
    report = run(broker, min_cell=15)
    assert [(f["from"], f["people"]) for f in report["flows"]] == [(B, 30)]


def test_hotspots_use_hour_of_day_baseline_and_threshold(broker):
    strict = run(broker, z_threshold=6.0)
    assert [(h["areaCode"], h["hour"]) for h in strict["hotspots"]] == [(A, "2022-03-08T01:00:00Z")]
    hotspot = strict["hotspots"][0]
    assert hotspot["baselineMean"] == 100.0
    assert hotspot["baselineStd"] == pytest.approx(5.976, abs=0.05)
    assert hotspot["zScore"] == pytest.approx(60 / 5.976, abs=0.01)
    lenient = run(broker, z_threshold=4.0)
    assert [(h["areaCode"], h["hour"]) for h in lenient["hotspots"]] == [
        (A, "2022-03-08T01:00:00Z"),
        (A, "2022-03-08T02:00:00Z"),
    ]


def test_client_pages_through_results_and_sends_ngsi_ld_headers(broker):
    run(broker)
    window_pages = [q for path, q, _ in broker.requests if q["timeAt"] == "2022-03-07T23:00:00Z"]
    assert [q["offset"] for q in window_pages] == ["0", "2", "4"]
    assert all(q["limit"] == "2" and q["timerel"] == "between" for q in window_pages)
    headers = broker.requests[0][2]
    assert headers["Accept"] == "application/ld+json"
    assert "ngsi-ld-core-context.jsonld" in headers["Link"]


def test_estimate_flows_without_gains_sends_everyone_outside():
    flows, inflow, outflow = estimate_flows({A: 10, B: 10}, {A: 5, B: 7})
    assert flows == [] and inflow == 0 and outflow == 8


def test_bad_input_is_rejected_clearly(broker):
    with pytest.raises(ValueError, match="time zone"):
        parse_time("2022-03-08T00:00:00")
    with pytest.raises(ValueError, match="area code prefix"):
        analyse(NgsiLdClient(broker.url), area_prefix="경산", start=START, end=END)
    with pytest.raises(ValueError, match="end must be after start"):
        analyse(NgsiLdClient(broker.url), area_prefix="47290", start=END, end=START)


def test_unreachable_hub_raises_hub_error():
    with FakeBroker([]) as stopped:
        url = stopped.url
    with pytest.raises(HubError, match="unreachable"):
        analyse(NgsiLdClient(url, timeout=2), area_prefix="47290", start=START, end=END)


def test_flask_api(broker):
    client = create_app(broker.url).test_client()
    response = client.get(
        "/api/movement", query_string={"area": "47290", "start": iso(START), "end": iso(END), "z": 6}
    )
    assert response.status_code == 200
    assert [h["areaCode"] for h in response.get_json()["hotspots"]] == [A]
    missing = client.get("/api/movement", query_string={"area": "47290"})
    assert missing.status_code == 400
    assert "start, end" in missing.get_json()["error"]


def test_cli_prints_json_report(broker, capsys):
    code = main(["--hub", broker.url, "report", "--area", "47290", "--start", iso(START),
                 "--end", iso(END), "--z", "6"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["area"] == "47290" and len(report["hotspots"]) == 1
    assert main(["--hub", broker.url, "report", "--area", "47290", "--start", "yesterday",
                 "--end", iso(END)]) == 2
    assert "not an ISO 8601" in capsys.readouterr().err
