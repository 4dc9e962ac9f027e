"""JSON API around the analysis, for the city's epidemiology dashboard."""

from __future__ import annotations

from flask import Flask, jsonify, request

from .analysis import analyse, parse_time
from .hub import HubError, NgsiLdClient


def create_app(hub_url: str) -> Flask:
    app = Flask(__name__)
    client = NgsiLdClient(hub_url)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/api/movement")
    def movement():
        args = request.args
        missing = [name for name in ("area", "start", "end") if not args.get(name)]
        if missing:
            return jsonify(error=f"missing query parameter(s): {', '.join(missing)}"), 400
        try:
            report = analyse(
                client,
                area_prefix=args["area"],
                start=parse_time(args["start"]),
                end=parse_time(args["end"]),
                baseline_days=int(args.get("baselineDays", 7)),
                z_threshold=float(args.get("z", 2.0)),
                min_cell=int(args.get("minCell", 5)),
            )
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        except HubError as exc:
            return jsonify(error=str(exc)), 502
        return jsonify(report)

    return app
