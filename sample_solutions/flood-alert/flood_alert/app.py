"""HTTP side: NGSI-LD notification endpoint and the current level per source."""

from __future__ import annotations

from flask import Flask, jsonify, request

from .hub import HubError, NgsiLdClient
from .levels import AlertEngine
from .service import process


def create_app(client: NgsiLdClient, engine: AlertEngine) -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/notify")
    def notify():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            return jsonify(error="expected an NGSI-LD Notification with a 'data' array"), 400
        try:
            outcome = process(client, engine, body["data"])
        except HubError as exc:
            return jsonify(error=str(exc)), 502
        return jsonify(outcome)

    @app.get("/api/levels")
    def levels():
        return jsonify(
            sources=engine.levels(), stationsWithoutThresholds=sorted(engine.unknown_stations)
        )

    return app
