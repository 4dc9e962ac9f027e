#!/bin/sh
# Installs the dispatcher on a Debian/Ubuntu VM and runs it every five minutes with systemd.
# Usage (as root, from the repository root):  HUB_URL=http://datahub:1026 sh deploy/vm/install.sh
set -eu

PREFIX="${PREFIX:-/opt/drt-ageing-town}"
CONFIG_DIR="${CONFIG_DIR:-/etc/drt-ageing-town}"
HUB_URL="${HUB_URL:?set HUB_URL to the data hub base URL}"
SOURCE_DIR="$(cd "$(dirname "$0")/../.." && pwd)"

command -v python3 >/dev/null || { echo "python3 (>= 3.11) is required" >&2; exit 1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "python3 >= 3.11 is required" >&2; exit 1; }

id drt >/dev/null 2>&1 || useradd --system --home-dir "$PREFIX" --shell /usr/sbin/nologin drt
mkdir -p "$PREFIX" "$CONFIG_DIR"
python3 -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/pip" install --quiet -r "$SOURCE_DIR/requirements.txt"
rm -rf "$PREFIX/drt_dispatch"
cp -r "$SOURCE_DIR/drt_dispatch" "$PREFIX/"
[ -f "$CONFIG_DIR/fleet.yaml" ] || cp "$SOURCE_DIR/deploy/fleet.yaml" "$CONFIG_DIR/fleet.yaml"
printf 'HUB_URL=%s\nFLEET_FILE=%s/fleet.yaml\n' "$HUB_URL" "$CONFIG_DIR" > "$CONFIG_DIR/env"

cat > /etc/systemd/system/drt-dispatch.service <<UNIT
[Unit]
Description=Demand-responsive transport dispatch (drt-ageing-town)
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
User=drt
WorkingDirectory=$PREFIX
EnvironmentFile=$CONFIG_DIR/env
ExecStart=$PREFIX/venv/bin/python -m drt_dispatch
UNIT

cat > /etc/systemd/system/drt-dispatch.timer <<UNIT
[Unit]
Description=Run the DRT dispatcher every five minutes

[Timer]
OnBootSec=1min
OnUnitActiveSec=5min

[Install]
WantedBy=timers.target
UNIT

systemctl daemon-reload
systemctl enable --now drt-dispatch.timer
echo "installed; edit $CONFIG_DIR/fleet.yaml, logs: journalctl -u drt-dispatch"
