"""Command line: `python -m cai_dashboard --hub URL [serve|print]`."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .hub import HubError, NgsiLdClient
from .stations import StationStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cai_dashboard", description="Air-quality (CAI) dashboard")
    parser.add_argument("--hub", default=os.environ.get("HUB_URL"), help="NGSI-LD hub URL (env HUB_URL)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("print", help="print the stations with their CAI as JSON")
    serve = commands.add_parser("serve", help="run the dashboard")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--max-age", type=float, default=60.0, help="seconds before re-reading the hub")
    serve.add_argument(
        "--notify-url",
        default=os.environ.get("NOTIFY_URL"),
        help="URL the hub should notify on changes (env NOTIFY_URL); subscribes at start",
    )
    args = parser.parse_args(argv)
    if not args.hub:
        parser.error("--hub (or HUB_URL) is required")
    try:
        client = NgsiLdClient(args.hub)
        if args.command == "print":
            stations = StationStore(client).stations()
            json.dump(stations, sys.stdout, ensure_ascii=False, indent=2)
            print()
            return 0
        from .app import create_app

        if args.notify_url:
            for kind in ("AirQualityObserved", "Device"):
                client.subscribe({
                    "id": f"urn:ngsi-ld:Subscription:air-quality-dashboard:{kind}",
                    "type": "Subscription",
                    "entities": [{"type": kind}],
                    "notification": {"endpoint": {"uri": args.notify_url, "accept": "application/json"}},
                })
        create_app(StationStore(client, max_age=args.max_age)).run(host=args.host, port=args.port)
        return 0
    except (ValueError, HubError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
