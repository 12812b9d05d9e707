#!/usr/bin/env bash
# Hotline against the seed's stack in alternating rounds, so that the CPU-per-request ratio is
# taken within one run on this noisy machine: each round, a fresh `hotline serve` of the French
# triage flow (signatures checked, SQLite records) then the seed's stack (bench/seed-flask/),
# each driven by `hotline bench gather --connections 64` (the given binary's), measured for 10 s
# after 3 s of unmeasured load (its default `--warmup`: a fresh server is still growing its heap,
# page cache and database files).
#   scripts/bench-vs-seed.sh HOTLINE_BIN [ROUNDS]     (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:?the hotline binary}"
rounds="${2:-3}"
source scripts/lib/gather.sh
token=$gather_token
work=$(mktemp -d)
server_pid=
seed_pid=
trap '[[ -n $server_pid ]] && kill $server_pid 2>/dev/null; [[ -n $seed_pid ]] && kill $seed_pid 2>/dev/null; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
for round in $(seq 1 "$rounds"); do
  rm -f "$work"/records.db*
  start_gather_server "$bin" "$work/records.db" "$work/serve.log"
  server_pid=$!
  sleep 1
  echo "== round $round, Hotline ($bin; $(uptime | sed 's/.*load/load/'))"
  "$bin" bench gather --addr 127.0.0.1:18181 --auth-token "$token" --duration 10s \
    --connections 64 --server-pid "$server_pid"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  seed_pid=$(bench/seed-flask/run.sh | tail -1)
  workers=$(pgrep -P "$seed_pid" | paste -sd, -)
  echo "== round $round, the seed's stack (gunicorn master $seed_pid, workers $workers)"
  "$bin" bench gather --addr 127.0.0.1:8091 --flow seed --auth-token "$token" --duration 10s \
    --connections 64 --server-pid "$seed_pid,$workers"
  kill "$seed_pid"
  seed_pid=
  sleep 2
done
