"""Dashboard page and JSON API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request

from .cai import BY_KEY, GRADES, POLLUTANTS, comprehensive_index
from .hub import HubError
from .stations import StationStore


def create_app(store: StationStore) -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/api/stations")
    def stations():
        try:
            return jsonify(stations=store.stations())
        except HubError as exc:
            return jsonify(error=str(exc)), 502

    @app.get("/api/cai")
    def calculator():
        """CAI for concentrations given as query parameters in table units (ppm, µg/m³)."""
        unknown = set(request.args) - set(BY_KEY)
        if unknown:
            return jsonify(error=f"unknown pollutant(s): {', '.join(sorted(unknown))}"), 400
        try:
            values = {key: float(text) for key, text in request.args.items()}
            return jsonify(comprehensive_index(values).to_json())
        except ValueError as exc:
            return jsonify(error=str(exc)), 400

    @app.post("/notify")
    def notify():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            return jsonify(error="expected an NGSI-LD Notification with a 'data' array"), 400
        return jsonify(merged=store.merge(body["data"]))

    @app.get("/")
    def dashboard():
        try:
            rows, error = store.stations(), None
        except HubError as exc:
            rows, error = [], str(exc)
        return render_template(
            "dashboard.html", stations=rows, pollutants=POLLUTANTS, grades=GRADES, error=error
        ), (200 if error is None else 502)

    return app
