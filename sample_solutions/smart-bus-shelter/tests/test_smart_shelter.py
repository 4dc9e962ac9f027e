"""smart_shelter against a fake NGSI-LD broker on 127.0.0.1."""
from __future__ import annotations

import json
import math
from typing import Any

import pytest
from smart_shelter.__main__ import main
from smart_shelter.control import Thresholds, decide, load_thresholds, run_once
from smart_shelter.ngsi import NgsiLdClient, value

CITY_HALL = (37.4786, 126.8647)  # Gwangmyeong


def at(north_m: float, east_m: float) -> dict[str, Any]:
    lat = CITY_HALL[0] + north_m / 111_195.0
    lon = CITY_HALL[1] + east_m / (111_195.0 * math.cos(math.radians(CITY_HALL[0])))
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def prop(val: Any) -> dict[str, Any]:
    return {"type": "Property", "value": val}


def shelter(ident: str, where: dict[str, Any], temperature: float | None, heating_on: bool, occupancy: int = 3) -> dict[str, Any]:
    entity = {
        "id": f"urn:ngsi-ld:BusShelter:{ident}",
        "type": "BusShelter",
        "name": prop(f"쉼터 {ident}"),
        "location": where,
        "heatingOn": prop(heating_on),
        "occupancy": prop(occupancy),
    }
    if temperature is not None:
        entity["temperature"] = prop(temperature)
    return entity


def air(ident: str, where: dict[str, Any], pm25: float) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:AirQualityObserved:{ident}", "type": "AirQualityObserved", "location": where, "pm25": prop(pm25)}


def weather(ident: str, where: dict[str, Any], temperature: float) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:WeatherObserved:{ident}", "type": "WeatherObserved", "location": where, "temperature": prop(temperature)}


@pytest.fixture
def entities() -> list[dict[str, Any]]:
    return [
        shelter("cold", at(0, 0), 2.0, heating_on=False),
        shelter("mild-on", at(100, 0), 6.0, heating_on=True),
        shelter("mild-off", at(200, 0), 6.0, heating_on=False),
        shelter("hot", at(0, 300), 31.0, heating_on=True),
        shelter("no-sensor", at(10_000, 0), None, heating_on=False),
        air("near", at(300, 0), 40.0),
        air("far", at(1500, 0), 10.0),
        weather("north", at(10_500, 0), -3.0),
    ]


def by_name(decisions: list[Any]) -> dict[str, Any]:
    return {d.shelter_id.rsplit(":", 1)[1]: d for d in decisions}


def split(entities: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...]:
    return tuple([e for e in entities if e["type"] == kind] for kind in ("BusShelter", "AirQualityObserved", "WeatherObserved"))


def test_decisions_follow_thresholds_with_heating_hysteresis(entities: list[dict[str, Any]]) -> None:
    d = by_name(decide(*split(entities), Thresholds()))
    assert (d["cold"].heating, d["cold"].heating_changed) == (True, True)
    assert (d["mild-on"].heating, d["mild-on"].heating_changed) == (True, False)  # 6 °C is inside the 5-8 °C band
    assert (d["mild-off"].heating, d["mild-off"].heating_changed) == (False, False)
    assert (d["hot"].heating, d["hot"].cooling, d["hot"].heating_changed) == (False, True, True)
    assert not any(d[name].cooling for name in ("cold", "mild-on", "mild-off"))


def test_nearest_air_station_decides_the_purifier(entities: list[dict[str, Any]]) -> None:
    d = by_name(decide(*split(entities), Thresholds()))
    assert (d["cold"].air_station, d["cold"].pm25, d["cold"].air_purifier) == ("urn:ngsi-ld:AirQualityObserved:near", 40.0, True)
    # The shelter 10 km north has no station within 2 km.
    assert (d["no-sensor"].pm25, d["no-sensor"].air_purifier) == (None, False)
    assert "no air quality station in range: purifier off" in d["no-sensor"].reasons
    raised = by_name(decide(*split(entities), Thresholds(purifier_on_pm25=50)))
    assert raised["cold"].air_purifier is False


def test_weather_station_fills_in_a_missing_shelter_temperature(entities: list[dict[str, Any]]) -> None:
    d = by_name(decide(*split(entities), Thresholds()))["no-sensor"]
    assert (d.temperature_c, d.temperature_source, d.heating) == (-3.0, "urn:ngsi-ld:WeatherObserved:north", True)
    lonely = decide([shelter("x", at(50_000, 0), None, heating_on=True)], [], [], Thresholds())[0]
    assert (lonely.heating, lonely.heating_changed) == (True, False)
    assert "no temperature: heating left as it is" in lonely.reasons


def test_empty_shelters_switch_everything_off_when_configured() -> None:
    empty = [shelter("empty", at(0, 0), -5.0, heating_on=True, occupancy=0)]
    assert decide(empty, [], [], Thresholds())[0].heating is True
    d = decide(empty, [], [], Thresholds(only_when_occupied=True))[0]
    assert (d.heating, d.cooling, d.air_purifier, d.heating_changed) == (False, False, False, True)


def test_run_once_writes_only_changed_heating_back(fake_broker: Any, entities: list[dict[str, Any]]) -> None:
    broker = fake_broker(entities, max_page=2)
    run_once(NgsiLdClient(broker.url, page_size=2), Thresholds(), apply=True)
    patches = {r["path"].split("/")[-2]: r["body"] for r in broker.requests if r["method"] == "PATCH"}
    assert patches == {
        "urn:ngsi-ld:BusShelter:cold": {"heatingOn": {"type": "Property", "value": True}},
        "urn:ngsi-ld:BusShelter:hot": {"heatingOn": {"type": "Property", "value": False}},
        "urn:ngsi-ld:BusShelter:no-sensor": {"heatingOn": {"type": "Property", "value": True}},
    }
    assert value(broker.entities["urn:ngsi-ld:BusShelter:cold"], "heatingOn") is True
    # A second round finds nothing left to change.
    broker.requests.clear()
    assert not any(d.heating_changed for d in run_once(NgsiLdClient(broker.url), Thresholds(), apply=True))
    assert not [r for r in broker.requests if r["method"] == "PATCH"]


def test_dry_run_does_not_write(fake_broker: Any, entities: list[dict[str, Any]]) -> None:
    broker = fake_broker(entities)
    decisions = run_once(NgsiLdClient(broker.url), Thresholds(), apply=False)
    assert sum(d.heating_changed for d in decisions) == 3
    assert not [r for r in broker.requests if r["method"] == "PATCH"]


def test_thresholds_from_yaml(tmp_path: Any) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("heating_on_below_c: 3\nheating_off_above_c: 6.5\nonly_when_occupied: true\n")
    assert load_thresholds(good) == Thresholds(heating_on_below_c=3, heating_off_above_c=6.5, only_when_occupied=True)
    cases = {
        "heating_on: 3\n": "unknown thresholds ['heating_on']",
        "purifier_on_pm25: high\n": "purifier_on_pm25 must be a number",
        "only_when_occupied: 1\n": "only_when_occupied must be true or false",
        "heating_on_below_c: 9\n": "heating_on_below_c must be lower than heating_off_above_c",
        "- 1\n": "expected a mapping",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_thresholds(bad)


def test_cli_applies_and_prints_decisions(fake_broker: Any, entities: list[dict[str, Any]], capsys: Any, tmp_path: Any) -> None:
    broker = fake_broker(entities)
    assert main(["--hub", broker.url, "--apply"]) == 0
    printed = {d["shelter_id"]: d for d in json.loads(capsys.readouterr().out)}
    assert printed["urn:ngsi-ld:BusShelter:hot"]["cooling"] is True
    assert value(broker.entities["urn:ngsi-ld:BusShelter:hot"], "heatingOn") is False
    config = tmp_path / "t.yaml"
    config.write_text("cooling_on_above_c: cold\n")
    assert main(["--hub", broker.url, "--config", str(config)]) == 2
    assert "cooling_on_above_c must be a number" in capsys.readouterr().err
    assert main(["--hub", "http://127.0.0.1:9"]) == 1
