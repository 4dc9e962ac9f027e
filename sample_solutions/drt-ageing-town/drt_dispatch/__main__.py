"""Command line: `python -m drt_dispatch --hub URL [--fleet FILE] [--shift-start ISO] [--dry-run]`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import datetime, timezone

from .fleet import FleetConfig
from .hub import HubError, NgsiLdClient
from .service import run_dispatch


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a time zone, e.g. {text}+09:00")
    return moment.astimezone(timezone.utc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drt_dispatch", description="Demand-responsive transport dispatch")
    parser.add_argument("--hub", default=os.environ.get("HUB_URL"), help="NGSI-LD hub URL (env HUB_URL)")
    parser.add_argument("--fleet", default=os.environ.get("FLEET_FILE"), help="fleet YAML (env FLEET_FILE)")
    parser.add_argument("--shift-start", type=_instant, help="when vehicles set off (default: now)")
    parser.add_argument("--dry-run", action="store_true", help="plan only, do not update requests")
    parser.add_argument("--every", type=int, default=0, help="repeat every N seconds (0: once)")
    args = parser.parse_args(argv)
    if not args.hub:
        parser.error("--hub (or HUB_URL) is required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        client = NgsiLdClient(args.hub)
        fleet = FleetConfig.load(args.fleet)
        while True:
            start = args.shift_start or datetime.now(timezone.utc)
            try:
                report = run_dispatch(client, fleet, start, dry_run=args.dry_run)
                print(json.dumps(report, ensure_ascii=False, indent=None if args.every else 2), flush=True)
            except HubError as exc:
                if not args.every:
                    raise
                logging.warning("dispatch failed, retrying in %s s: %s", args.every, exc)
            if not args.every:
                return 0
            time.sleep(args.every)
    except (ValueError, OSError, HubError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
