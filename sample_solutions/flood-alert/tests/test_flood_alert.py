"""Runs the alert engine and service against a fake NGSI-LD broker on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from flood_alert.__main__ import main
from flood_alert.app import create_app
from flood_alert.hub import NgsiLdClient
from flood_alert.levels import AlertEngine, Level, Thresholds, level_for
from flood_alert.service import DEFAULT_THRESHOLDS, load_thresholds, poll_once, subscribe

T0 = datetime(2024, 7, 10, 3, 0, tzinfo=timezone.utc)
GAUGE = "urn:ngsi-ld:RainfallObserved:cheonan-pungse-aws"
STATION = "urn:ngsi-ld:WaterLevelObserved:cheonan-cheonancheon-01"
POINT = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [127.15, 36.81]}}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rain(minutes: int, mm: float, gauge: str = GAUGE) -> dict:
    return {
        "id": gauge,
        "type": "RainfallObserved",
        "precipitation": {"type": "Property", "value": mm},
        "dateObserved": {
            "type": "Property",
            "value": {"@type": "DateTime", "@value": stamp(T0 + timedelta(minutes=minutes))},
        },
        "location": POINT,
    }


def water(minutes: int, metres: float, station: str = STATION) -> dict:
    return {
        "id": station,
        "type": "WaterLevelObserved",
        "waterLevel": {"type": "Property", "value": metres},
        "dateObserved": {"type": "Property", "value": stamp(T0 + timedelta(minutes=minutes))},
        "location": POINT,
    }


class FakeBroker:
    """Entities (GET with limit/offset), entity creation and subscriptions, 409 on duplicates."""

    def __init__(self) -> None:
        self.entities: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.offsets: list[str] = []
        broker = self

        class Handler(BaseHTTPRequestHandler):
            def reply(self, status: int, body: object = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/ngsi-ld/v1/entities" or "type" not in query:
                    self.reply(400, {"title": "type is required"})
                    return
                broker.offsets.append(query["offset"])
                matching = [e for e in broker.entities.values() if e["type"] == query["type"]]
                offset, limit = int(query["offset"]), int(query["limit"])
                self.reply(200, matching[offset : offset + limit])

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                store = {
                    "/ngsi-ld/v1/entities": broker.entities,
                    "/ngsi-ld/v1/subscriptions": broker.subscriptions,
                }.get(self.path)
                if store is None:
                    self.reply(404)
                elif body["id"] in store:
                    self.reply(409, {"title": "Already exists"})
                else:
                    store[body["id"]] = body
                    self.reply(201)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def alerts(self) -> list[dict]:
        return [e for e in self.entities.values() if e["type"] == "Alert"]

    def __enter__(self) -> "FakeBroker":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def broker():
    with FakeBroker() as running:
        yield running


@pytest.fixture()
def engine() -> AlertEngine:
    return AlertEngine(load_thresholds(None))


def levels_of(alerts: list[dict]) -> list[str]:
    return [alert["data"]["value"]["level"] for alert in alerts]


def test_level_for_uses_lower_limits():
    limits = (15, 30, 50, 80)
    assert [level_for(v, limits) for v in (0, 14.9, 15, 30, 79.9, 80, 500)] == [
        Level.NORMAL, Level.NORMAL, Level.ATTENTION, Level.CAUTION, Level.WARNING,
        Level.SEVERE, Level.SEVERE,
    ]
    assert (Level.CAUTION.korean, Level.CAUTION.severity) == ("주의", "medium")


def test_thresholds_file_is_validated(tmp_path):
    bundled = Thresholds.load(DEFAULT_THRESHOLDS)
    assert bundled.rain_3h == (40, 60, 90, 150) and STATION in bundled.stations
    with pytest.raises(ValueError, match="strictly increasing"):
        Thresholds.from_mapping({"rainfall": {"1h": [1, 2, 2, 3], "3h": [1, 2, 3, 4]}})
    with pytest.raises(ValueError, match="four numbers"):
        Thresholds.from_mapping({"rainfall": {"1h": [1, 2, 3], "3h": [1, 2, 3, 4]}})
    broken = tmp_path / "bad.yaml"
    broken.write_text("rainfall: [unclosed", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        Thresholds.load(broken)


def test_rolling_sums_raise_alerts_only_when_the_level_rises(engine):
    alerts = []
    for step in range(18):  # 5 mm every 10 minutes for three hours
        alerts += engine.observe(rain(10 * step, 5.0))
    assert levels_of(alerts) == ["attention", "caution", "warning"]
    # attention: 1 h sum 15 mm at 20 min; caution: 1 h sum 30 mm at 50 min;
    # warning: 3 h sum 90 mm at 170 min (the 1 h sum stays at 30 mm meanwhile).
    assert [a["dateIssued"]["value"]["@value"] for a in alerts] == [
        stamp(T0 + timedelta(minutes=20)),
        stamp(T0 + timedelta(minutes=50)),
        stamp(T0 + timedelta(minutes=170)),
    ]
    assert alerts[-1]["data"]["value"] == {
        "level": "warning", "levelKo": "경계", "rain1hMm": 30.0, "rain3hMm": 90.0,
    }
    assert alerts[-1]["subCategory"]["value"] == "heavyRain"
    assert alerts[-1]["severity"]["value"] == "high"
    # The same observation arriving again (poll + notification) changes nothing.
    assert engine.observe(rain(170, 5.0)) == []
    assert engine.levels()[GAUGE]["rain3hMm"] == 90.0


def test_old_rain_leaves_the_three_hour_window(engine):
    for step in range(18):
        engine.observe(rain(10 * step, 5.0))
    engine.observe(rain(170 + 180, 0.0))  # three hours later, dry
    assert engine.levels()[GAUGE]["rain3hMm"] == 0.0
    assert engine.levels()[GAUGE]["rain1hMm"] == 0.0


def test_water_level_hysteresis(engine):
    assert engine.observe(water(0, 1.0)) == []
    jump = engine.observe(water(10, 2.3))  # straight to 주의: one alert, not two
    assert levels_of(jump) == ["caution"]
    assert jump[0]["subCategory"]["value"] == "flood"
    assert jump[0]["alertSource"] == {"type": "Relationship", "object": STATION}
    assert jump[0]["location"]["value"]["coordinates"] == [127.15, 36.81]
    # Hovering around the 주의 limit (2.2 m) for less than an hour: no repeated alert.
    for minutes, metres in [(20, 2.1), (40, 2.25), (50, 2.0), (70, 2.3)]:
        assert engine.observe(water(minutes, metres)) == []
    # Below for a full hour clears the level; a later rise alerts again.
    assert engine.observe(water(80, 1.0)) == []
    assert engine.observe(water(140, 1.0)) == []
    assert engine.levels()[STATION]["level"] == "normal"
    assert levels_of(engine.observe(water(150, 1.6))) == ["attention"]
    # An out-of-order (older) reading is ignored.
    assert engine.observe(water(100, 3.5)) == []


def test_station_without_thresholds_is_reported(engine):
    unknown = "urn:ngsi-ld:WaterLevelObserved:cheonan-elsewhere"
    assert engine.observe(water(0, 9.9, station=unknown)) == []
    assert engine.unknown_stations == {unknown}


def test_bad_observation_is_rejected_with_message(engine):
    bad = rain(0, 5.0)
    bad["precipitation"]["value"] = "lots"
    with pytest.raises(ValueError, match="precipitation must be a non-negative number"):
        engine.observe(bad)
    naive = water(0, 1.0)
    naive["dateObserved"]["value"] = "2024-07-10T03:00:00"
    with pytest.raises(ValueError, match="time zone"):
        engine.observe(naive)


def test_poll_publishes_alerts_once_even_after_restart(broker):
    broker.entities[STATION] = water(0, 2.9)  # 경계
    broker.entities[GAUGE] = rain(0, 31.0)  # 1 h: 31 mm -> 주의
    client = NgsiLdClient(broker.url, page_size=1)
    first = poll_once(client, AlertEngine(load_thresholds(None)))
    assert len(first["created"]) == 2 and first["duplicates"] == []
    by_kind = {a["subCategory"]["value"]: a for a in broker.alerts()}
    assert by_kind["flood"]["severity"]["value"] == "high"
    assert by_kind["heavyRain"]["severity"]["value"] == "medium"
    assert by_kind["flood"]["category"]["value"] == "weather"
    assert broker.offsets.count("0") >= 2 and "1" in broker.offsets  # paged with limit=1
    # A restarted service has no memory, but the deterministic ids make the hub refuse copies.
    again = poll_once(client, AlertEngine(load_thresholds(None)))
    assert again["created"] == [] and sorted(again["duplicates"]) == sorted(first["created"])
    assert len(broker.alerts()) == 2


def test_notification_endpoint(broker):
    client = NgsiLdClient(broker.url)
    app = create_app(client, AlertEngine(load_thresholds(None))).test_client()
    notification = {"id": "urn:ngsi-ld:Notification:1", "type": "Notification",
                    "data": [water(0, 3.5), water(5, 9.9, station="urn:ngsi-ld:WaterLevelObserved:x")]}
    response = app.post("/notify", json=notification)
    assert response.status_code == 200
    assert len(response.get_json()["created"]) == 1
    assert broker.alerts()[0]["severity"]["value"] == "critical"
    levels = app.get("/api/levels").get_json()
    assert levels["sources"][STATION]["levelKo"] == "심각"
    assert levels["stationsWithoutThresholds"] == ["urn:ngsi-ld:WaterLevelObserved:x"]
    assert app.post("/notify", json={"data": "nope"}).status_code == 400


def test_subscriptions_are_created_once(broker):
    client = NgsiLdClient(broker.url)
    created = subscribe(client, "http://flood-alert:8080/notify")
    assert len(created) == 2
    rain_sub = broker.subscriptions["urn:ngsi-ld:Subscription:flood-alert:RainfallObserved"]
    assert rain_sub["watchedAttributes"] == ["precipitation"]
    assert rain_sub["notification"]["endpoint"]["uri"] == "http://flood-alert:8080/notify"
    assert subscribe(client, "http://flood-alert:8080/notify") == []


def test_cli_poll_once(broker, capsys):
    broker.entities[GAUGE] = rain(0, 16.0)
    assert main(["--hub", broker.url, "poll"]) == 0
    assert len(json.loads(capsys.readouterr().out)["created"]) == 1
    assert main(["--hub", "ftp://nowhere", "poll"]) == 2
    assert "http://" in capsys.readouterr().err
