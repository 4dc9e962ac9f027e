"""parking_share against a fake NGSI-LD broker on 127.0.0.1."""
from __future__ import annotations

import json
import math
from typing import Any

import pytest
from parking_share.__main__ import main
from parking_share.app import create_app
from parking_share.booking import BookingError, BookingStore, book_spot, release_booking
from parking_share.finder import nearby_car_parks
from parking_share.ngsi import CORE_CONTEXT, NgsiLdClient, NgsiLdError, haversine_m, point, value

ORIGIN = (36.8094, 127.1464)  # Cheonan station


def offset(north_m: float, east_m: float) -> tuple[float, float]:
    lat = ORIGIN[0] + north_m / 111_195.0
    lon = ORIGIN[1] + east_m / (111_195.0 * math.cos(math.radians(ORIGIN[0])))
    return lat, lon


def car_park(ident: str, where: tuple[float, float], available: int | None, total: int = 100) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:OffStreetParking:{ident}",
        "type": "OffStreetParking",
        "name": {"type": "Property", "value": f"주차장 {ident}"},
        "totalSpotNumber": {"type": "Property", "value": total},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [where[1], where[0]]}},
    }
    if available is not None:
        entity["availableSpotNumber"] = {"type": "Property", "value": available}
    return entity


def spot(ident: str, site: str, status: str) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:ParkingSpot:{ident}",
        "type": "ParkingSpot",
        "status": {"type": "Property", "value": status},
        "refParkingSite": {"type": "Relationship", "object": f"urn:ngsi-ld:OffStreetParking:{site}"},
    }


@pytest.fixture
def city(fake_broker: Any) -> Any:
    return fake_broker(
        [
            car_park("A", offset(50, 0), available=3),
            car_park("B", offset(0, 80), available=20),
            car_park("C", offset(-300, 0), available=50),
            car_park("full", offset(0, -150), available=0),
            car_park("far", offset(2000, 0), available=90),
            spot("A1", "A", "occupied"),
            spot("A2", "A", "free"),
            spot("A3", "A", "free"),
            spot("B1", "B", "free"),
        ]
    )


def test_haversine_matches_known_distance() -> None:
    # Seoul City Hall to Cheonan City Hall is about 83 km as the crow flies.
    assert haversine_m((37.5663, 126.9779), (36.8151, 127.1139)) == pytest.approx(84_400, rel=0.01)


def test_nearby_ranks_by_distance_band_then_free_spaces(city: Any) -> None:
    parks = nearby_car_parks(NgsiLdClient(city.url), *ORIGIN, radius_m=1000)
    # A (50 m) and B (80 m) share the first 100 m band, so B with more free spaces wins;
    # the full car park and the one 2 km away are left out.
    assert [park.id.rsplit(":", 1)[1] for park in parks] == ["B", "A", "C"]
    assert [round(park.distance_m) for park in parks] == [80, 50, 300]
    assert parks[0].available == 20 and parks[0].name == "주차장 B"


def test_nearby_respects_limit_and_validates_input(city: Any) -> None:
    client = NgsiLdClient(city.url)
    assert len(nearby_car_parks(client, *ORIGIN, limit=1)) == 1
    with pytest.raises(ValueError, match="not a WGS84 coordinate"):
        nearby_car_parks(client, 127.1, 36.8)


def test_nearby_counts_free_spots_when_site_has_no_counter(fake_broker: Any) -> None:
    broker = fake_broker([car_park("X", offset(10, 10), available=None), spot("X1", "X", "free"), spot("X2", "X", "free"), spot("X3", "X", "occupied")])
    [park] = nearby_car_parks(NgsiLdClient(broker.url), *ORIGIN)
    assert park.available == 2


def test_client_pages_through_a_broker_that_caps_the_page_size(fake_broker: Any) -> None:
    broker = fake_broker([car_park(str(n), offset(n * 10, 0), available=1) for n in range(7)], max_page=2)
    entities = NgsiLdClient(broker.url, page_size=3).entities("OffStreetParking")
    assert sorted(e["id"] for e in entities) == sorted(f"urn:ngsi-ld:OffStreetParking:{n}" for n in range(7))
    gets = [r for r in broker.requests if r["method"] == "GET"]
    assert [r["query"]["offset"] for r in gets] == ["0", "2", "4", "6"]
    assert all(r["headers"]["Accept"] == "application/ld+json" for r in gets)
    assert all(f"<{CORE_CONTEXT}>" in r["headers"]["Link"] for r in gets)


def test_client_reports_broker_errors(fake_broker: Any) -> None:
    broker = fake_broker([])
    client = NgsiLdClient(broker.url)
    with pytest.raises(NgsiLdError, match="HTTP 404"):
        client.update_attrs("urn:ngsi-ld:ParkingSpot:missing", {"status": {"type": "Property", "value": "free"}})
    with pytest.raises(ValueError, match="must start with http"):
        NgsiLdClient("ftp://hub.example.org")


def test_value_helpers_read_normalised_and_key_values() -> None:
    key_values = {"id": "x", "status": "free", "location": {"type": "Point", "coordinates": [127.1, 36.8]}}
    assert value(key_values, "status") == "free"
    assert point(key_values) == (36.8, 127.1)
    assert value(spot("1", "A", "free"), "refParkingSite") == "urn:ngsi-ld:OffStreetParking:A"
    assert point({"id": "y"}) is None


def test_booking_marks_spots_occupied_until_released(city: Any) -> None:
    client, store = NgsiLdClient(city.url), BookingStore()
    site = "urn:ngsi-ld:OffStreetParking:A"
    first = book_spot(client, store, site, "12가 3456")
    second = book_spot(client, store, site, "123나4567")
    assert (first.spot_id, second.spot_id) == ("urn:ngsi-ld:ParkingSpot:A2", "urn:ngsi-ld:ParkingSpot:A3")
    assert first.plate == "12가3456"
    assert value(city.entities[first.spot_id], "status") == "occupied"
    patch = next(r for r in city.requests if r["method"] == "PATCH")
    assert patch["path"] == "/ngsi-ld/v1/entities/urn:ngsi-ld:ParkingSpot:A2/attrs"
    assert patch["body"] == {"status": {"type": "Property", "value": "occupied"}}
    with pytest.raises(BookingError, match="no free parking spot"):
        book_spot(client, store, site, "34다5678")

    released = release_booking(client, store, first.id)
    assert released.released_at is not None
    assert value(city.entities[first.spot_id], "status") == "free"
    assert book_spot(client, store, site, "34다5678").spot_id == first.spot_id
    with pytest.raises(BookingError, match="already released"):
        release_booking(client, store, first.id)


def test_booking_rejects_bad_plate_without_touching_the_hub(city: Any) -> None:
    with pytest.raises(BookingError, match="number plate"):
        book_spot(NgsiLdClient(city.url), BookingStore(), "urn:ngsi-ld:OffStreetParking:A", "ABC-123")
    assert not [r for r in city.requests if r["method"] == "PATCH"]


def test_bookings_survive_a_restart_in_sqlite(city: Any, tmp_path: Any) -> None:
    db = tmp_path / "bookings.sqlite3"
    booking = book_spot(NgsiLdClient(city.url), BookingStore(db), "urn:ngsi-ld:OffStreetParking:B", "12가3456")
    assert BookingStore(db).get(booking.id) == booking


def test_http_api(city: Any) -> None:
    http = create_app(NgsiLdClient(city.url), BookingStore()).test_client()
    listing = http.get(f"/api/car-parks?lat={ORIGIN[0]}&lon={ORIGIN[1]}&radius=200")
    assert listing.status_code == 200
    assert [p["id"] for p in listing.get_json()] == ["urn:ngsi-ld:OffStreetParking:B", "urn:ngsi-ld:OffStreetParking:A"]
    assert http.get("/api/car-parks?lon=127").get_json() == {"error": "missing query parameter 'lat'"}
    assert http.get("/api/car-parks?lat=north&lon=127").status_code == 400

    created = http.post("/api/bookings", json={"carParkId": "urn:ngsi-ld:OffStreetParking:B", "plate": "12가3456"})
    assert created.status_code == 201 and created.get_json()["spot_id"] == "urn:ngsi-ld:ParkingSpot:B1"
    assert http.post("/api/bookings", json={"carParkId": "urn:ngsi-ld:OffStreetParking:B", "plate": "12가3457"}).status_code == 409
    assert http.post("/api/bookings", data="nonsense").status_code == 400
    booking_id = created.get_json()["id"]
    assert http.delete(f"/api/bookings/{booking_id}").status_code == 200
    assert http.delete(f"/api/bookings/{booking_id}").status_code == 409
    assert http.delete("/api/bookings/999").status_code == 404


def test_http_api_reports_an_unreachable_hub() -> None:
    http = create_app(NgsiLdClient("http://127.0.0.1:9", timeout=2), BookingStore()).test_client()
    response = http.get(f"/api/car-parks?lat={ORIGIN[0]}&lon={ORIGIN[1]}")
    assert response.status_code == 502
    assert response.get_json()["error"].startswith("data hub error: data hub unreachable")


def test_cli_nearby_and_book(city: Any, capsys: Any, tmp_path: Any) -> None:
    db = str(tmp_path / "b.sqlite3")
    assert main(["--hub", city.url, "--db", db, "nearby", "--lat", str(ORIGIN[0]), "--lon", str(ORIGIN[1]), "--limit", "2"]) == 0
    assert [p["id"][-1] for p in json.loads(capsys.readouterr().out)] == ["B", "A"]
    assert not (tmp_path / "b.sqlite3").exists()  # looking up car parks creates no booking database
    assert main(["--hub", city.url, "--db", db, "book", "--car-park", "urn:ngsi-ld:OffStreetParking:B", "--plate", "12가3456"]) == 0
    assert json.loads(capsys.readouterr().out)["spot_id"] == "urn:ngsi-ld:ParkingSpot:B1"
    assert main(["--hub", city.url, "--db", db, "book", "--car-park", "urn:ngsi-ld:OffStreetParking:B", "--plate", "12가3456"]) == 1
    assert "no free parking spot" in capsys.readouterr().err
