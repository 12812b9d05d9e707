#!/usr/bin/env bash
# The webhook load benchmark (issue 3), in one run on this machine:
#   1. `hotline serve` (release) on the French triage flow, signatures checked, every step
#      recorded in SQLite (synchronous=FULL), memory sessions;
#   2. the seed's stack (Flask + lxml on gunicorn, 2 gthread workers, as its Dockerfile runs it;
#      bench/seed-flask/), no signature check, no record;
# each driven by `hotline bench gather` at 1, 16 and 64 connections: whole calls, signed
# gather callbacks, latency per callback, server CPU per request from /proc; each level measured
# after 3 s of unmeasured load (`--warmup`).
#   scripts/bench-gather.sh [DURATION]     (default 10s measured per level)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10s}"
cargo build --release --locked --quiet -p hotline
bin=target/release/hotline
work=$(mktemp -d)
source scripts/lib/gather.sh
token=$gather_token
start_gather_server "$bin" "$work/records.db" "$work/serve.log"
hotline_pid=$!
# `|| true`: under `set -e` a failing command in the trap (the server already stopped) would turn
# a successful run's exit status into 1.
trap 'kill $hotline_pid 2>/dev/null || true; if [[ -f /tmp/hotline-seed.pid ]]; then kill "$(cat /tmp/hotline-seed.pid)" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
sleep 1
echo "== Hotline ($(nproc) cores; $(uptime | sed 's/.*load/load/'))"
"$bin" bench gather --addr 127.0.0.1:18181 --auth-token "$token" --duration "$duration" --server-pid "$hotline_pid"
kill $hotline_pid
master=$(bench/seed-flask/run.sh | tail -1)
workers=$(pgrep -P "$master" | paste -sd, -)
echo "== The seed's stack (gunicorn master $master, workers $workers)"
"$bin" bench gather --addr 127.0.0.1:8091 --flow seed --auth-token "$token" --duration "$duration" \
  --server-pid "$master,$workers"
