"""Batch dispatch of demand-responsive transport by cheapest insertion.

Requests are grouped into time windows. Within a window, requests already assigned
keep their vehicle and are planned first, then new mobility-aid requests, then the
rest by requested time. Each request goes where it adds the least driving time,
subject to seats, wheelchair access, maximum wait and maximum ride time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float

    def km_to(self, other: "Point") -> float:
        """Great-circle distance (haversine)."""
        phi1, phi2 = math.radians(self.lat), math.radians(other.lat)
        d_phi, d_lambda = phi2 - phi1, math.radians(other.lon - self.lon)
        a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
        return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Request:
    id: str
    origin: Point
    destination: Point
    requested: datetime
    passengers: int
    mobility_aid: bool = False
    assigned_vehicle: str | None = None  # set when a previous run already committed it


@dataclass(frozen=True)
class Vehicle:
    id: str
    position: Point
    capacity: int
    accessible: bool


@dataclass(frozen=True)
class Settings:
    speed_kmh: float = 25.0
    road_factor: float = 1.3  # mountain roads are longer than the straight line
    dwell_minutes: float = 1.0
    aid_dwell_minutes: float = 3.0  # boarding with a wheelchair or walker takes longer
    max_wait_minutes: float = 15.0
    max_ride_factor: float = 2.0
    ride_slack_minutes: float = 10.0
    window_minutes: int = 30

    def travel_minutes(self, a: Point, b: Point) -> float:
        return a.km_to(b) * self.road_factor / self.speed_kmh * 60.0

    def max_ride_minutes(self, request: Request) -> float:
        direct = self.travel_minutes(request.origin, request.destination)
        return direct * self.max_ride_factor + self.ride_slack_minutes


@dataclass(frozen=True)
class Stop:
    request: Request
    action: Literal["pickup", "dropoff"]

    @property
    def point(self) -> Point:
        return self.request.origin if self.action == "pickup" else self.request.destination


@dataclass
class ScheduledStop:
    stop: Stop
    eta: datetime
    load: int


@dataclass
class Simulation:
    stops: list[ScheduledStop]
    driving_minutes: float
    end_time: datetime


def simulate(
    start: Point, start_time: datetime, stops: list[Stop], capacity: int, settings: Settings
) -> Simulation | None:
    """Drive the stops in order; None if seats, wait or ride-time limits are broken."""
    position, clock, load, driving = start, start_time, 0, 0.0
    boarded: dict[str, datetime] = {}
    scheduled = []
    for stop in stops:
        request = stop.request
        minutes = settings.travel_minutes(position, stop.point)
        driving += minutes
        clock += timedelta(minutes=minutes)
        if stop.action == "pickup":
            if clock > request.requested + timedelta(minutes=settings.max_wait_minutes):
                return None
            clock = max(clock, request.requested)  # never leave before the booked time
            boarded[request.id] = clock
            load += request.passengers
            if load > capacity:
                return None
        else:
            ride = (clock - boarded[request.id]).total_seconds() / 60.0
            if ride > settings.max_ride_minutes(request) + 1e-9:
                return None
            load -= request.passengers
        scheduled.append(ScheduledStop(stop, clock, load))
        dwell = settings.aid_dwell_minutes if request.mobility_aid else settings.dwell_minutes
        clock += timedelta(minutes=dwell)
        position = stop.point
    return Simulation(scheduled, driving, clock)


@dataclass
class VehiclePlan:
    vehicle: Vehicle
    position: Point
    available: datetime
    stops: list[Stop] = field(default_factory=list)
    done: list[ScheduledStop] = field(default_factory=list)  # earlier windows
    driving_minutes: float = 0.0


@dataclass
class DispatchResult:
    plans: list[VehiclePlan]
    assignments: dict[str, str]  # request id -> vehicle id, new and kept
    unassigned: dict[str, str]  # request id -> reason

    def to_json(self) -> dict:
        return {
            "vehicles": [
                {
                    "vehicle": plan.vehicle.id,
                    "drivingMinutes": round(plan.driving_minutes, 1),
                    "stops": [
                        {
                            "request": s.stop.request.id,
                            "action": s.stop.action,
                            "eta": _rounded(s.eta).strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "passengers": s.stop.request.passengers,
                            "mobilityAid": s.stop.request.mobility_aid,
                            "loadAfter": s.load,
                        }
                        for s in plan.done
                    ],
                }
                for plan in self.plans
            ],
            "unassigned": [{"request": rid, "reason": why} for rid, why in sorted(self.unassigned.items())],
        }


def _rounded(moment: datetime) -> datetime:
    """To the nearest second: travel times are floats."""
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def _priority(request: Request) -> tuple:
    return (request.assigned_vehicle is None, not request.mobility_aid, request.requested, request.id)


def _best_insertion(
    plan: VehiclePlan, request: Request, settings: Settings
) -> tuple[float, list[Stop], Simulation] | None:
    current = simulate(plan.position, plan.available, plan.stops, plan.vehicle.capacity, settings)
    base = current.driving_minutes if current else 0.0
    best = None
    pickup, dropoff = Stop(request, "pickup"), Stop(request, "dropoff")
    for i in range(len(plan.stops) + 1):
        for j in range(i, len(plan.stops) + 1):
            candidate = plan.stops[:i] + [pickup] + plan.stops[i:j] + [dropoff] + plan.stops[j:]
            result = simulate(plan.position, plan.available, candidate, plan.vehicle.capacity, settings)
            if result is not None and (best is None or result.driving_minutes - base < best[0] - 1e-9):
                best = (result.driving_minutes - base, candidate, result)
    return best


def dispatch(
    requests: list[Request], vehicles: list[Vehicle], shift_start: datetime, settings: Settings
) -> DispatchResult:
    plans = [VehiclePlan(v, v.position, shift_start) for v in sorted(vehicles, key=lambda v: v.id)]
    assignments: dict[str, str] = {}
    unassigned: dict[str, str] = {}

    windows: dict[datetime, list[Request]] = defaultdict(list)
    size = timedelta(minutes=settings.window_minutes)
    for request in requests:
        windows[shift_start + ((request.requested - shift_start) // size) * size].append(request)

    for window in sorted(windows):
        for request in sorted(windows[window], key=_priority):
            candidates = [
                plan
                for plan in plans
                if plan.vehicle.capacity >= request.passengers
                and (plan.vehicle.accessible or not request.mobility_aid)
                and (request.assigned_vehicle is None or plan.vehicle.id == request.assigned_vehicle)
            ]
            if not candidates:
                unassigned[request.id] = (
                    f"assigned vehicle {request.assigned_vehicle} is not available"
                    if request.assigned_vehicle
                    else "no vehicle with enough seats" + (" and wheelchair access" if request.mobility_aid else "")
                )
                continue
            options = [(option, plan) for plan in candidates if (option := _best_insertion(plan, request, settings))]
            if not options:
                unassigned[request.id] = "no vehicle can meet the wait and ride-time limits"
                continue
            (_, stops, _), plan = min(options, key=lambda o: (o[0][0], o[1].vehicle.id))
            plan.stops = stops
            assignments[request.id] = plan.vehicle.id
        # Close the window: the vehicles continue from where its last stop leaves them.
        for plan in plans:
            if not plan.stops:
                continue
            result = simulate(plan.position, plan.available, plan.stops, plan.vehicle.capacity, settings)
            if result is None:  # cannot happen: every accepted insertion was simulated
                raise RuntimeError(f"plan of {plan.vehicle.id} became infeasible")
            plan.done += result.stops
            plan.driving_minutes += result.driving_minutes
            plan.position, plan.available, plan.stops = plan.stops[-1].point, result.end_time, []
    return DispatchResult(plans, assignments, unassigned)
