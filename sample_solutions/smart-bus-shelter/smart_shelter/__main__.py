"""Command line: ``python -m smart_shelter --hub URL [--config FILE] [--apply] [--interval SECONDS]``."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from . import __version__
from .control import Thresholds, load_thresholds, run_once
from .ngsi import NgsiLdClient, NgsiLdError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smart_shelter", description="Smart bus shelter controller (스마트 버스 쉼터)")
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--hub", default=os.environ.get("NGSI_LD_HUB"), help="data hub base URL (env NGSI_LD_HUB)")
    parser.add_argument("--config", default=os.environ.get("SHELTER_CONFIG"), help="YAML file with thresholds")
    parser.add_argument("--apply", action="store_true", help="write heatingOn back to the data hub")
    parser.add_argument("--interval", type=float, default=0, help="repeat every N seconds (0: run once)")
    args = parser.parse_args(argv)
    if not args.hub:
        parser.error("give the data hub URL with --hub or NGSI_LD_HUB")
    try:
        limits = load_thresholds(args.config) if args.config else Thresholds()
        client = NgsiLdClient(args.hub)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    while True:
        try:
            decisions = run_once(client, limits, apply=args.apply)
            print(json.dumps([d.to_json() for d in decisions], ensure_ascii=False), flush=True)
        except NgsiLdError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            if not args.interval:
                return 1
        if not args.interval:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
