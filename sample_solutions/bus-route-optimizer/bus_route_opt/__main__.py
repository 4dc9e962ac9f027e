"""Command line: ``python -m bus_route_opt --hub URL plan --route ID --max-km 12`` or ``serve``."""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import __version__
from .app import create_app
from .network import demand_points, route_stops
from .ngsi import NgsiLdClient, NgsiLdError
from .optimizer import optimise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bus_route_opt", description="Bus route optimiser (버스 노선 최적화)")
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--hub", default=os.environ.get("NGSI_LD_HUB"), help="data hub base URL (env NGSI_LD_HUB)")
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="choose the stops to keep on a route")
    plan.add_argument("--route", required=True, help="GtfsRoute entity id")
    plan.add_argument("--max-km", type=float, required=True, help="maximum route length in km")
    plan.add_argument("--walk", type=float, default=400.0, help="walking radius around a stop in metres")
    plan.add_argument("--area", type=float, default=1000.0, help="demand within this many metres of the route counts")
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    if not args.hub:
        parser.error("give the data hub URL with --hub or NGSI_LD_HUB")

    try:
        client = NgsiLdClient(args.hub)
        if args.command == "serve":
            create_app(client).run(host=args.host, port=args.port, threaded=True)
            return 0
        stops = route_stops(client, args.route)
        result = optimise(stops, demand_points(client), args.max_km, walk_radius_m=args.walk, area_radius_m=args.area)
    except (LookupError, ValueError, NgsiLdError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"route": args.route} | result.to_json(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
