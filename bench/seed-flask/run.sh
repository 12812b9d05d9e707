#!/usr/bin/env bash
# Starts the seed's stack on 127.0.0.1:8091 as its Dockerfile does (gunicorn, 2 gthread
# workers), in a venv of pinned packages from PyPI. Prints the master's pid.
set -euo pipefail
cd "$(dirname "$0")"
venv="${SEED_VENV:-/tmp/hotline-seed-venv}"
if [[ ! -x "$venv/bin/gunicorn" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q flask==3.1.3 flask-cors==6.0.5 lxml==6.1.3 gunicorn==27.0.1
fi
"$venv/bin/gunicorn" -w 2 -b 127.0.0.1:8091 --worker-class=gthread --daemon --pid /tmp/hotline-seed.pid worker:app
sleep 1
cat /tmp/hotline-seed.pid
