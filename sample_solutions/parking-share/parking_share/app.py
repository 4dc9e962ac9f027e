"""HTTP API: GET /api/car-parks, POST /api/bookings, DELETE /api/bookings/<id>."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from .booking import BookingError, BookingStore, book_spot, release_booking
from .finder import nearby_car_parks
from .ngsi import NgsiLdClient, NgsiLdError


def create_app(client: NgsiLdClient, store: BookingStore) -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def health() -> Any:
        return {"status": "ok"}

    @app.get("/api/car-parks")
    def car_parks() -> Any:
        try:
            latitude = float(request.args["lat"])
            longitude = float(request.args["lon"])
            radius = float(request.args.get("radius", 1000))
            limit = int(request.args.get("limit", 10))
        except KeyError as exc:
            return _error(400, f"missing query parameter {exc.args[0]!r}")
        except ValueError:
            return _error(400, "lat, lon, radius and limit must be numbers")
        try:
            parks = nearby_car_parks(client, latitude, longitude, radius_m=radius, limit=limit)
        except ValueError as exc:
            return _error(400, str(exc))
        return jsonify([park.to_json() for park in parks])

    @app.post("/api/bookings")
    def create_booking() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("carParkId"), str) or not isinstance(body.get("plate"), str):
            return _error(400, 'expected a JSON body {"carParkId": "...", "plate": "12가3456"}')
        try:
            booking = book_spot(client, store, body["carParkId"], body["plate"])
        except BookingError as exc:
            return _error(409, str(exc))
        return jsonify(booking.to_json()), 201

    @app.delete("/api/bookings/<int:booking_id>")
    def delete_booking(booking_id: int) -> Any:
        try:
            return jsonify(release_booking(client, store, booking_id).to_json())
        except BookingError as exc:
            return _error(404 if store.get(booking_id) is None else 409, str(exc))

    @app.errorhandler(NgsiLdError)
    def hub_error(exc: NgsiLdError) -> Any:
        return _error(502, f"data hub error: {exc}")

    return app


def _error(status: int, message: str) -> Any:
    return jsonify({"error": message}), status
