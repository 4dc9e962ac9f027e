"""Command line: ``python -m parking_share --hub URL nearby|book|release|serve``."""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import __version__
from .app import create_app
from .booking import BookingStore, book_spot, release_booking
from .finder import nearby_car_parks
from .ngsi import NgsiLdClient, NgsiLdError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parking_share", description="Smart parking sharing (스마트 주차 공유)")
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--hub", default=os.environ.get("NGSI_LD_HUB"), help="data hub base URL (env NGSI_LD_HUB)")
    parser.add_argument("--db", default=os.environ.get("BOOKING_DB", "bookings.sqlite3"), help="SQLite file for bookings")
    commands = parser.add_subparsers(dest="command", required=True)

    nearby = commands.add_parser("nearby", help="list car parks with free spaces near a point")
    nearby.add_argument("--lat", type=float, required=True)
    nearby.add_argument("--lon", type=float, required=True)
    nearby.add_argument("--radius", type=float, default=1000.0, help="search radius in metres")
    nearby.add_argument("--limit", type=int, default=10)

    book = commands.add_parser("book", help="book a free spot in a car park")
    book.add_argument("--car-park", required=True, help="OffStreetParking entity id")
    book.add_argument("--plate", required=True, help="number plate, e.g. 12가3456")

    release = commands.add_parser("release", help="end a booking")
    release.add_argument("booking_id", type=int)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.hub:
        print("error: give the data hub URL with --hub or NGSI_LD_HUB", file=sys.stderr)
        return 2
    try:
        client = NgsiLdClient(args.hub)
        if args.command == "nearby":
            parks = nearby_car_parks(client, args.lat, args.lon, radius_m=args.radius, limit=args.limit)
            output: object = [park.to_json() for park in parks]
        else:
            # Only commands that touch bookings open (and so create) the booking database.
            store = BookingStore(args.db)
            if args.command == "book":
                output = book_spot(client, store, args.car_park, args.plate).to_json()
            elif args.command == "release":
                output = release_booking(client, store, args.booking_id).to_json()
            else:
                # Werkzeug's threaded server: enough for one municipality's traffic behind a reverse proxy.
                create_app(client, store).run(host=args.host, port=args.port, threaded=True)
                return 0
    except (ValueError, NgsiLdError) as exc:  # BookingError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(output, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
