"""Load a route's stops (in trip order) and demand points from the data hub."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .ngsi import NgsiLdClient, point, value


@dataclass(frozen=True)
class Stop:
    id: str
    name: str
    location: tuple[float, float]


@dataclass(frozen=True)
class DemandPoint:
    location: tuple[float, float]
    population: float


def route_stops(client: NgsiLdClient, route_id: str) -> list[Stop]:
    """Stops of ``route_id`` in the order of its longest trip (GTFS has no stop list per route)."""
    if not any(route["id"] == route_id for route in client.entities("GtfsRoute")):
        raise LookupError(f"no GtfsRoute {route_id!r} on the data hub")
    trips = {trip["id"] for trip in client.entities("GtfsTrip") if value(trip, "hasRoute") == route_id}
    if not trips:
        raise LookupError(f"route {route_id!r} has no GtfsTrip")
    sequences: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for stop_time in client.entities("GtfsStopTime"):
        trip = value(stop_time, "hasTrip")
        if trip in trips:
            sequences[trip].append((int(value(stop_time, "stopSequence")), value(stop_time, "hasStop")))
    if not sequences:
        raise LookupError(f"trips of route {route_id!r} have no GtfsStopTime")
    longest = max(sorted(sequences), key=lambda trip: len(sequences[trip]))
    stops = {stop["id"]: stop for stop in client.entities("GtfsStop")}
    ordered = []
    for _, stop_id in sorted(sequences[longest]):
        stop = stops.get(stop_id)
        where = point(stop) if stop else None
        if where is None:
            raise LookupError(f"stop {stop_id!r} of trip {longest!r} is missing or has no location")
        ordered.append(Stop(stop_id, str(value(stop, "name", stop_id)), where))
    return ordered


def demand_points(client: NgsiLdClient) -> list[DemandPoint]:
    """Mean floating population per location, averaged over the measurement time slots."""
    totals: dict[tuple[float, float], float] = defaultdict(float)
    slots: set[str] = set()
    for sample in client.entities("FloatingPopulation"):
        where = point(sample)
        if where is None:
            continue
        totals[where] += float(value(sample, "populationCount", 0))
        slots.add(str(value(sample, "measuredAt", "")))
    return [DemandPoint(where, total / max(1, len(slots))) for where, total in totals.items()]
