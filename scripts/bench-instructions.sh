#!/usr/bin/env bash
# The server's user-space instructions per gather callback, counted by valgrind's callgrind, for
# one or more builds: a measure of Hotline's own work that this machine's noise does not move
# (timed A/Bs of the same two builds swing by ±20 % here). For each binary:
#   1. `hotline serve` on the French triage flow under callgrind (signatures checked, SQLite
#      records, memory sessions), then 4 s of load to warm it up;
#   2. counters zeroed, `hotline bench gather` for 10 s at CONNS connections (default 64);
#   3. counters dumped; instructions divided by the callbacks answered.
# Not counted: the kernel (syscalls, loopback TCP: about 40 % of the server's CPU time in a
# native profile). Under valgrind SHA-1 runs without the CPU's SHA extensions, so the signature
# check weighs more here (about a tenth) than natively (under 1 %). Compare builds, not machines.
#   scripts/bench-instructions.sh BIN...        e.g. /tmp/hotline-old target/release/hotline
# KEEP=DIR keeps each build's profile of the measured 10 s as DIR/N.callgrind (N: its position
# among the arguments), for `callgrind_annotate --inclusive=yes DIR/N.callgrind`: where the
# instructions go, function by function.
set -euo pipefail
cd "$(dirname "$0")/.."
(($#)) || { echo "usage: $0 HOTLINE_BIN..." >&2; exit 2; }
bash scripts/install-deps.sh --bench-tools >/dev/null
conns="${CONNS:-64}"
load="${!#}" # the last binary drives the load for every server
token=bench-token
port=18185
work=$(mktemp -d)
vpid=
trap '[[ -n $vpid ]] && kill -INT $vpid 2>/dev/null; rm -rf "$work"' EXIT
[[ -n ${KEEP:-} ]] && mkdir -p "$KEEP"
n=0
for bin in "$@"; do
  n=$((n + 1))
  rm -rf "${work:?}"/*
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
    "$bin" serve examples/flows/covid-triage-fr.yaml --listen "127.0.0.1:$port" \
    --auth-token "$token" --records "sqlite:$work/records.db" >"$work/serve.log" 2>&1 &
  vpid=$!
  for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  "$load" bench gather --addr "127.0.0.1:$port" --auth-token "$token" --warmup 0s --duration 4s \
    --connections "$conns" >/dev/null
  callgrind_control -z "$vpid" >/dev/null 2>&1
  "$load" bench gather --addr "127.0.0.1:$port" --auth-token "$token" --warmup 0s --duration 10s \
    --connections "$conns" >"$work/bench.log"
  callgrind_control -d "$vpid" >/dev/null 2>&1
  kill -INT "$vpid"
  wait "$vpid" 2>/dev/null || true
  vpid=
  rate=$(tail -1 "$work/bench.log" | awk '{print $2}')
  instructions=$(awk '/^summary:/ {print $2; exit}' "$work"/cg.*.1)
  [[ -n ${KEEP:-} ]] && cp "$work"/cg.*.1 "$KEEP/$n.callgrind"
  awk -v b="$bin" -v r="$rate" -v i="$instructions" -v c="$conns" \
    'BEGIN { printf "%s: %d connections, %d callbacks, %.0f instructions per callback\n", b, c, r * 10, i / (r * 10) }'
done
