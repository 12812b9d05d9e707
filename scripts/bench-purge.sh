#!/usr/bin/env bash
# Webhooks while a retention purge runs (BENCHMARKS.md, issue 3): a records database holding
# OLD_CALLS calls of 2023 (10 steps each, `scripts/records-history.py`), served twice with the
# gather-callback load at 64 connections for 20 s: once keeping every record, once with
# `--retention 30d`, whose purge starts with the server and deletes them all meanwhile, 100 calls
# per transaction, paced. Prints each run's callbacks/s, latencies and CPU, and how long the
# purge took; then times `hotline purge --older-than 30d` on another copy, with no load.
#   scripts/bench-purge.sh HOTLINE_BIN [OLD_CALLS]     (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: $0 HOTLINE_BIN [OLD_CALLS]}
calls=${2:-200000}
source scripts/lib/gather.sh
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill -INT $pid 2>/dev/null; rm -rf "$work"' EXIT

# start ARGS…: `hotline serve` of the triage flow on 127.0.0.1:18181 in the background, with
# ARGS, logging to $log; waits until it answers. Its pid in $pid.
start() {
  NO_COLOR=1 HOTLINE_LOG=info "$bin" serve examples/flows/covid-triage-fr.yaml --listen 127.0.0.1:18181 \
    --auth-token "$gather_token" "$@" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fsS http://127.0.0.1:18181/healthz >/dev/null 2>&1 && return
    sleep 0.1
  done
}
stop() {
  kill -INT "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

# A database migrated by a server's start, then the history, checkpointed.
log=$work/base.log
start --records "sqlite:$work/base.db"
stop
python3 scripts/records-history.py "$work/base.db" "$calls"
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$work/base.db"

for run in kept purged; do
  cp "$work/base.db" "$work/$run.db"
  extra=()
  [[ $run == purged ]] && extra=(--retention 30d)
  log=$work/$run.log
  start --records "sqlite:$work/$run.db" "${extra[@]}"
  begun=$(date +%s.%N)
  "$bin" bench gather --addr 127.0.0.1:18181 --auth-token "$gather_token" --connections 64 \
    --warmup 0s --duration 20s --server-pid "$pid" >"$work/$run.bench"
  echo "== $run"
  tail -n 2 "$work/$run.bench"
  if [[ $run == purged ]]; then
    done_at=$(grep -m1 'purged the call records' "$work/$run.log" | awk '{print $1}' || true)
    if [[ -n $done_at ]]; then
      echo "purge finished at $done_at (bench began $(date -u -d "@$begun" +%H:%M:%S.%N))"
      grep -m1 'purged the call records' "$work/$run.log"
    else
      echo "purge still running when the bench ended"
    fi
  fi
  stop
done

cp "$work/base.db" "$work/alone.db"
echo "== hotline purge --older-than 30d alone, no load"
TIMEFORMAT='%R s wall, %U s user, %S s system CPU'
time "$bin" purge --older-than 30d --records "sqlite:$work/alone.db"
