"""One dispatch run: read the hub, plan, write assignments back."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from .fleet import (
    ASSIGNED,
    PENDING,
    FleetConfig,
    attribute_value,
    request_from_entity,
    vehicle_from_entity,
)
from .hub import NgsiLdClient
from .planner import dispatch

log = logging.getLogger(__name__)


def run_dispatch(
    client: NgsiLdClient, fleet: FleetConfig, shift_start: datetime, *, dry_run: bool = False
) -> dict[str, Any]:
    requests, rejected = [], []
    for entity in client.entities("DrtRequest"):
        if attribute_value(entity, "status") not in (PENDING, ASSIGNED):
            continue
        try:
            requests.append(request_from_entity(entity))
        except ValueError as exc:
            rejected.append({"request": entity.get("id", "?"), "reason": str(exc)})
    vehicles, skipped = [], []
    for entity in client.entities("Vehicle"):
        vehicle = vehicle_from_entity(entity, fleet)
        (vehicles.append(vehicle) if vehicle else skipped.append(entity["id"]))

    result = dispatch(requests, vehicles, shift_start, fleet.settings)
    committed = {r.id for r in requests if r.assigned_vehicle is not None}
    newly_assigned = {
        rid: vid for rid, vid in result.assignments.items() if rid not in committed
    }
    if not dry_run:
        for request_id, vehicle_id in sorted(newly_assigned.items()):
            client.update_attributes(
                request_id,
                {
                    "status": {"type": "Property", "value": ASSIGNED},
                    "assignedVehicle": {"type": "Relationship", "object": vehicle_id},
                },
            )
    report = result.to_json()
    report["newlyAssigned"] = sorted(newly_assigned)
    report["rejectedRequests"] = rejected
    report["vehiclesSkipped"] = sorted(skipped)
    report["dryRun"] = dry_run
    return report
