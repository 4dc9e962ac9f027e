"""CAI arithmetic and the dashboard, run against a fake NGSI-LD broker on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from cai_dashboard.__main__ import main
from cai_dashboard.app import create_app
from cai_dashboard.cai import BY_KEY, comprehensive_index, sub_index, to_table_unit
from cai_dashboard.hub import NgsiLdClient
from cai_dashboard.stations import StationStore


@pytest.mark.parametrize(
    ("key", "concentration", "expected"),
    [
        ("pm10", 45, 65),  # 49/49 × (45 − 31) + 51
        ("pm25", 20, 61),  # 49/19 × (20 − 16) + 51 = 61.3
        ("o3", 0.045, 63),  # 49/0.059 × 0.014 + 51 = 62.6
        ("no2", 0.025, 42),
        ("co", 0.5, 13),  # 12.5 rounds half up
        ("so2", 0.003, 8),  # 7.5 rounds half up
        ("pm25", 15, 50), ("pm25", 16, 51), ("pm25", 35, 100), ("pm25", 36, 101),
        ("pm25", 75, 250), ("pm25", 76, 251), ("pm25", 500, 500), ("pm25", 900, 500),
        ("pm10", 30, 50), ("pm10", 31, 51), ("pm10", 151, 251),
        ("so2", 0.0205, 50),  # truncated to the published precision, not in a band gap
        ("co", 15.01, 251),
        ("o3", 0, 0),
    ],
)
def test_sub_index_follows_the_breakpoint_table(key, concentration, expected):
    assert sub_index(key, concentration) == expected


def test_overall_index_is_the_worst_sub_index():
    result = comprehensive_index({"pm10": 45, "pm25": 20, "o3": 0.045, "no2": 0.025, "co": 0.5, "so2": 0.003})
    assert (result.overall, result.main_pollutant) == (65, "pm10")
    assert result.to_json()["grade"] == "보통"


def test_several_unhealthy_pollutants_raise_the_index():
    three = comprehensive_index({"pm10": 100, "pm25": 50, "o3": 0.1, "no2": 0.02})
    assert three.sub_indices == {"pm10": 142, "pm25": 154, "o3": 124, "no2": 33}
    assert (three.overall, three.main_pollutant) == (154 + 75, "pm25")
    two = comprehensive_index({"pm10": 100, "pm25": 50, "o3": 0.05, "no2": 0.02})
    assert two.overall == 154 + 50
    capped = comprehensive_index({"pm10": 600, "pm25": 500, "o3": 0.6, "no2": 0.02})
    assert capped.overall == 500 and capped.to_json()["grade"] == "매우나쁨"


def test_no_overall_index_without_the_required_pollutants():
    result = comprehensive_index({"pm10": 45, "pm25": 20, "co": 0.4})
    assert result.overall is None and result.to_json()["grade"] is None
    assert result.sub_indices == {"pm10": 65, "pm25": 61, "co": 10}


def test_unit_conversion():
    assert to_table_unit(BY_KEY["o3"], 45, "61") == pytest.approx(0.045)
    assert to_table_unit(BY_KEY["no2"], 40, "GQ") == pytest.approx(40 * 24.45 / 46005.5)
    assert to_table_unit(BY_KEY["co"], 1.0, "GP") == pytest.approx(24.45 / 28.010)
    assert to_table_unit(BY_KEY["pm25"], 0.02, "GP") == pytest.approx(20)
    with pytest.raises(ValueError, match="unsupported unit code"):
        to_table_unit(BY_KEY["pm10"], 10, "59")
    with pytest.raises(ValueError, match="non-negative"):
        sub_index("pm10", -1)
    with pytest.raises(ValueError, match="unknown pollutant"):
        sub_index("radon", 1)


# --- dashboard against the fake broker ---------------------------------------------------


def prop(value, unit=None):
    attribute = {"type": "Property", "value": value}
    if unit:
        attribute["unitCode"] = unit
    return attribute


def observation(name: str, **readings) -> dict:
    return {
        "id": f"urn:ngsi-ld:AirQualityObserved:gwangmyeong-{name}",
        "type": "AirQualityObserved",
        "dateObserved": prop({"@type": "DateTime", "@value": "2021-11-03T05:00:00Z"}),
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [126.86, 37.47]}},
        "refDevice": {"type": "Relationship", "object": f"urn:ngsi-ld:Device:aq-{name}"},
        **readings,
    }


def device(name: str, label: str, state: str) -> dict:
    return {"id": f"urn:ngsi-ld:Device:aq-{name}", "type": "Device",
            "name": prop(label), "deviceState": prop(state)}


class FakeBroker:
    def __init__(self, entities: list[dict]) -> None:
        self.entities = entities
        self.offsets: list[str] = []
        broker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                broker.offsets.append(query["offset"])
                matching = [e for e in broker.entities if e["type"] == query["type"]]
                offset, limit = int(query["offset"]), int(query["limit"])
                data = json.dumps(matching[offset : offset + limit]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

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
        observation("cheolsan", pm10=prop(45), pm25=prop(20), o3=prop(45, "61"), no2=prop(0.025), co=prop(0.4)),
        observation("soha", pm10=prop(100), pm25=prop(50), o3=prop(0.1), no2=prop(0.02)),
        observation("haan", pm10=prop(20), pm25=prop("n/a")),
        device("cheolsan", "철산동 측정소", "ok"),
        device("soha", "소하동 측정소", "ok"),
    ]
    with FakeBroker(entities) as running:
        yield running


def test_stations_api_joins_devices_and_sorts_worst_first(broker):
    app = create_app(StationStore(NgsiLdClient(broker.url, page_size=2))).test_client()
    stations = app.get("/api/stations").get_json()["stations"]
    assert [(s["name"], s["cai"], s["grade"]) for s in stations] == [
        ("소하동 측정소", 229, "나쁨"),
        ("철산동 측정소", 65, "보통"),
        ("gwangmyeong-haan", None, None),
    ]
    assert stations[1]["concentrations"]["o3"] == 0.045  # converted from ppb
    assert stations[1]["deviceState"] == "ok"
    assert stations[2]["problems"] == ["pm25: not a non-negative number"]
    assert "2" in broker.offsets  # paged with limit=2


def test_dashboard_page_and_notifications(broker):
    store = StationStore(NgsiLdClient(broker.url), max_age=3600)
    app = create_app(store).test_client()
    page = app.get("/").get_data(as_text=True)
    assert "소하동 측정소" in page and "나쁨" in page and "229" in page
    notification = {"type": "Notification", "data": [
        {"id": "urn:ngsi-ld:AirQualityObserved:gwangmyeong-soha", "type": "AirQualityObserved",
         "pm10": prop(20), "pm25": prop(10), "o3": prop(0.02)}]}
    assert app.post("/notify", json=notification).get_json() == {"merged": 1}
    soha = next(s for s in app.get("/api/stations").get_json()["stations"] if s["name"] == "소하동 측정소")
    assert (soha["cai"], soha["grade"]) == (33, "좋음")  # every pollutant now scores 33
    assert app.post("/notify", data="x").status_code == 400


def test_calculator_endpoint():
    app = create_app(StationStore(NgsiLdClient("http://127.0.0.1:9"))).test_client()
    body = app.get("/api/cai", query_string={"pm10": 45, "pm25": 20, "o3": 0.045, "no2": 0.025}).get_json()
    assert (body["cai"], body["grade"], body["subIndices"]["pm25"]["index"]) == (65, "보통", 61)
    assert app.get("/api/cai?radon=3").status_code == 400
    assert "non-negative" in app.get("/api/cai?pm10=-4").get_json()["error"]


def test_unreachable_hub_gives_502():
    with FakeBroker([]) as stopped:
        url = stopped.url
    app = create_app(StationStore(NgsiLdClient(url, timeout=2))).test_client()
    assert app.get("/api/stations").status_code == 502
    assert app.get("/").status_code == 502


def test_cli_print(broker, capsys):
    assert main(["--hub", broker.url, "print"]) == 0
    assert [s["cai"] for s in json.loads(capsys.readouterr().out)] == [229, 65, None]
