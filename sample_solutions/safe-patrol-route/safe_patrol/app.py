"""HTTP API: GET /route.geojson?start=LAT,LON&k=10&cell=200."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from flask import Flask, jsonify, request

from .ngsi import NgsiLdClient, NgsiLdError
from .planner import plan_patrol
from .risk import RiskWeights


def parse_start(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"start must be 'latitude,longitude', got {text!r}") from None
    return lat, lon


def create_app(client: NgsiLdClient, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def health() -> Any:
        return {"status": "ok"}

    @app.get("/route.geojson")
    def route() -> Any:
        try:
            start = parse_start(request.args["start"])
            k = int(request.args.get("k", 10))
            weights = RiskWeights(cell_size_m=float(request.args.get("cell", 200)))
            collection = plan_patrol(client, start, k=k, weights=weights, now=clock())
        except KeyError:
            return jsonify({"error": "missing query parameter 'start' (latitude,longitude)"}), 400
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        except NgsiLdError as exc:
            return jsonify({"error": f"data hub error: {exc}"}), 502
        return app.response_class(json.dumps(collection, ensure_ascii=False), mimetype="application/geo+json")

    return app

