"""HTTP API: GET /routes and GET /routes/<route id>/plan?maxKm=12&walk=400&area=1000."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from .network import demand_points, route_stops
from .ngsi import NgsiLdClient, NgsiLdError, value
from .optimizer import optimise


def create_app(client: NgsiLdClient) -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def health() -> Any:
        return {"status": "ok"}

    @app.get("/routes")
    def routes() -> Any:
        return jsonify([
            {"id": r["id"], "shortName": value(r, "shortName"), "name": value(r, "name")}
            for r in sorted(client.entities("GtfsRoute"), key=lambda r: r["id"])
        ])

    @app.get("/routes/<path:route_id>/plan")
    def plan(route_id: str) -> Any:
        try:
            max_km = float(request.args["maxKm"])
            walk = float(request.args.get("walk", 400))
            area = float(request.args.get("area", 1000))
        except KeyError:
            return _error(400, "missing query parameter 'maxKm'")
        except ValueError:
            return _error(400, "maxKm, walk and area must be numbers")
        try:
            stops = route_stops(client, route_id)
            result = optimise(stops, demand_points(client), max_km, walk_radius_m=walk, area_radius_m=area)
        except LookupError as exc:
            return _error(404, str(exc))
        except ValueError as exc:
            return _error(400, str(exc))
        return jsonify({"route": route_id} | result.to_json())

    @app.errorhandler(NgsiLdError)
    def hub_error(exc: NgsiLdError) -> Any:
        return _error(502, f"data hub error: {exc}")

    return app


def _error(status: int, message: str) -> Any:
    return jsonify({"error": message}), status
