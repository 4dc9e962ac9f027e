"""Command line: ``python -m safe_patrol --hub URL route --start LAT,LON [-k 10]`` or ``serve``."""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone

from . import __version__
from .app import create_app, parse_start
from .ngsi import NgsiLdClient, NgsiLdError
from .planner import plan_patrol
from .risk import RiskWeights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="safe_patrol", description="Safe patrol route (안심 순찰 경로)")
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--hub", default=os.environ.get("NGSI_LD_HUB"), help="data hub base URL (env NGSI_LD_HUB)")
    commands = parser.add_subparsers(dest="command", required=True)
    route = commands.add_parser("route", help="print the patrol route as GeoJSON")
    route.add_argument("--start", type=parse_start, required=True, help="police station as latitude,longitude")
    route.add_argument("-k", type=int, default=10, help="number of risk cells to visit")
    route.add_argument("--cell", type=float, default=200.0, help="grid cell size in metres")
    route.add_argument("--now", type=datetime.fromisoformat, help="evaluate as of this ISO time (default: now)")
    route.add_argument("-o", "--output", help="write GeoJSON to this file instead of stdout")
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
        now = args.now or datetime.now(timezone.utc)
        if now.tzinfo is None:
            raise ValueError("--now needs a time zone, e.g. 2024-06-01T23:00:00+09:00")
        collection = plan_patrol(client, args.start, k=args.k, weights=RiskWeights(cell_size_m=args.cell), now=now)
    except (ValueError, NgsiLdError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(collection, ensure_ascii=False, indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
