"""Find car parks with free spaces near a point."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from .ngsi import NgsiLdClient, haversine_m, point, value


@dataclass(frozen=True)
class CarPark:
    id: str
    name: str
    latitude: float
    longitude: float
    available: int
    total: int | None
    distance_m: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"distance_m": round(self.distance_m, 1)}


def nearby_car_parks(
    client: NgsiLdClient,
    latitude: float,
    longitude: float,
    *,
    radius_m: float = 1000.0,
    limit: int = 10,
    distance_band_m: float = 100.0,
) -> list[CarPark]:
    """Car parks with at least one free space within ``radius_m``, best first.

    Ranked by distance, counted in ``distance_band_m`` bands, then by free spaces, so a
    car park 20 m further away but with many more free spaces comes first.
    """
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(f"not a WGS84 coordinate: latitude={latitude}, longitude={longitude}")
    if radius_m <= 0 or limit <= 0 or distance_band_m <= 0:
        raise ValueError("radius, limit and distance band must be positive")

    origin = (latitude, longitude)
    free_spots_by_site: Counter[str] | None = None
    found: list[CarPark] = []
    for site in client.entities("OffStreetParking"):
        location = point(site)
        if location is None:
            continue
        distance = haversine_m(origin, location)
        if distance > radius_m:
            continue
        available = value(site, "availableSpotNumber")
        if available is None:
            # Sites without an occupancy counter: count their free ParkingSpot entities instead.
            if free_spots_by_site is None:
                free_spots_by_site = count_free_spots(client)
            available = free_spots_by_site[site["id"]]
        if int(available) <= 0:
            continue
        total = value(site, "totalSpotNumber")
        found.append(
            CarPark(
                id=site["id"],
                name=str(value(site, "name", site["id"])),
                latitude=location[0],
                longitude=location[1],
                available=int(available),
                total=None if total is None else int(total),
                distance_m=distance,
            )
        )
    found.sort(key=lambda park: (int(park.distance_m // distance_band_m), -park.available, park.distance_m))
    return found[:limit]


def count_free_spots(client: NgsiLdClient) -> Counter[str]:
    """Number of ParkingSpot entities with status ``free`` per referenced parking site."""
    return Counter(
        value(spot, "refParkingSite")
        for spot in client.entities("ParkingSpot")
        if value(spot, "status") == "free" and value(spot, "refParkingSite")
    )
