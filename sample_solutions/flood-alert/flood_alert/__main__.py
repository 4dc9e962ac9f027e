"""Command line: `python -m flood_alert --hub URL poll|serve`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time

from .hub import HubError, NgsiLdClient
from .levels import AlertEngine
from .service import load_thresholds, poll_once, subscribe


def poll_forever(client: NgsiLdClient, engine: AlertEngine, seconds: int) -> None:
    while True:
        try:
            print(json.dumps(poll_once(client, engine), ensure_ascii=False), flush=True)
        except HubError as exc:
            # Keep the engine's history: a hub hiccup must not reset the rolling sums.
            logging.warning("poll failed, retrying in %s s: %s", seconds, exc)
        time.sleep(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flood_alert", description="Flood and heavy-rain alerts")
    parser.add_argument("--hub", default=os.environ.get("HUB_URL"), help="NGSI-LD hub URL (env HUB_URL)")
    parser.add_argument(
        "--thresholds",
        default=os.environ.get("THRESHOLDS_FILE"),
        help="YAML thresholds file (env THRESHOLDS_FILE; default: the bundled Cheonan values)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    poll = commands.add_parser("poll", help="read current observations and publish alerts")
    poll.add_argument("--every", type=int, default=0, help="repeat every N seconds (0: once)")
    serve = commands.add_parser("serve", help="receive NGSI-LD notifications")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--notify-url",
        default=os.environ.get("NOTIFY_URL"),
        help="URL the hub should notify (env NOTIFY_URL); subscriptions are created at start",
    )
    serve.add_argument(
        "--poll-every",
        type=int,
        default=int(os.environ.get("POLL_EVERY", "0")),
        help="also poll every N seconds as a safety net for lost notifications (env POLL_EVERY)",
    )
    args = parser.parse_args(argv)
    if not args.hub:
        parser.error("--hub (or HUB_URL) is required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    try:
        client = NgsiLdClient(args.hub)
        engine = AlertEngine(load_thresholds(args.thresholds))
        if args.command == "serve":
            from .app import create_app

            if args.notify_url:
                subscribe(client, args.notify_url)
            if args.poll_every > 0:
                threading.Thread(
                    target=poll_forever, args=(client, engine, args.poll_every), daemon=True
                ).start()
            create_app(client, engine).run(host=args.host, port=args.port)
            return 0
        if args.every <= 0:
            print(json.dumps(poll_once(client, engine), ensure_ascii=False))
            return 0
        poll_forever(client, engine, args.every)
        return 0
    except (ValueError, OSError, HubError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
