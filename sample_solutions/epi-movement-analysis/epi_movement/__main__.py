"""Command line: `python -m epi_movement --hub URL report ...` or `... serve`."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .analysis import analyse, parse_time
from .hub import HubError, NgsiLdClient


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="epi_movement", description="Aggregated population movement and hotspot analysis"
    )
    parser.add_argument(
        "--hub", default=os.environ.get("HUB_URL"), help="NGSI-LD data hub base URL (env HUB_URL)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="print a JSON report for one area and time window")
    report.add_argument("--area", required=True, help="area code prefix, e.g. 47290 for 경산시")
    report.add_argument("--start", required=True, help="window start, ISO 8601 with time zone")
    report.add_argument("--end", required=True, help="window end (exclusive), ISO 8601 with time zone")
    report.add_argument("--baseline-days", type=int, default=7)
    report.add_argument("--z", type=float, default=2.0, help="z-score threshold for hotspots")
    report.add_argument("--min-cell", type=int, default=5, help="suppress counts below this")
    serve = commands.add_parser("serve", help="run the JSON API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)

    if not args.hub:
        parser.error("--hub (or HUB_URL) is required")
    try:
        if args.command == "serve":
            from .app import create_app

            create_app(args.hub).run(host=args.host, port=args.port)
            return 0
        result = analyse(
            NgsiLdClient(args.hub),
            area_prefix=args.area,
            start=parse_time(args.start),
            end=parse_time(args.end),
            baseline_days=args.baseline_days,
            z_threshold=args.z,
            min_cell=args.min_cell,
        )
    except (ValueError, HubError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
