#!/bin/sh
# Install bus-route-optimizer on a Debian/Ubuntu VM as a systemd service.
# Usage (as root, from a checkout):  NGSI_LD_HUB=http://hub:1026 sh deploy/vm/install.sh
set -eu

APP_DIR=/opt/bus-route-optimizer
ENV_FILE=/etc/default/bus-route-optimizer
SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root" >&2
    exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-venv
fi

id busroute >/dev/null 2>&1 || useradd --system --home-dir "$APP_DIR" --shell /usr/sbin/nologin busroute
mkdir -p "$APP_DIR"
cp -r "$SOURCE_DIR/bus_route_opt" "$SOURCE_DIR/requirements.txt" "$APP_DIR/"
python3 -m venv "$APP_DIR/venv"
"$APP_DIR/venv/bin/pip" install --no-cache-dir -r "$APP_DIR/requirements.txt"

# Keep an existing configuration on upgrades.
if [ ! -f "$ENV_FILE" ]; then
    printf 'NGSI_LD_HUB=%s\nPORT=8080\n' "${NGSI_LD_HUB:-http://127.0.0.1:1026}" > "$ENV_FILE"
fi

cat > /etc/systemd/system/bus-route-optimizer.service <<UNIT
[Unit]
Description=Bus route optimiser (버스 노선 최적화)
After=network-online.target
Wants=network-online.target

[Service]
User=busroute
WorkingDirectory=$APP_DIR
EnvironmentFile=$ENV_FILE
ExecStart=$APP_DIR/venv/bin/python -m bus_route_opt serve --host 0.0.0.0 --port \${PORT}
Restart=on-failure
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable --now bus-route-optimizer.service
echo "bus-route-optimizer is running on port $(. "$ENV_FILE"; echo "$PORT"); settings in $ENV_FILE"
