#!/usr/bin/env bash
# How a fresh `hotline serve` warms up: one server of the French triage flow (as the other
# gather benches start it), then RUNS consecutive unwarmed windows of `hotline bench gather
# --connections 64` of SECONDS each; callbacks/s and server CPU per request, window by window.
#   scripts/bench-warmup.sh HOTLINE_BIN [RUNS] [SECONDS]     (default 7 windows of 2 s)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:?the hotline binary}"
runs="${2:-7}"
seconds="${3:-2}"
source scripts/lib/gather.sh
work=$(mktemp -d)
server_pid=
trap '[[ -n $server_pid ]] && kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT
start_gather_server "$bin" "$work/records.db" "$work/serve.log"
server_pid=$!
sleep 1
for run in $(seq 1 "$runs"); do
  from=$(((run - 1) * seconds))
  "$bin" bench gather --addr 127.0.0.1:18181 --auth-token "$gather_token" --warmup 0s \
    --duration "${seconds}s" --connections 64 --server-pid "$server_pid" |
    awk -v f="$from" -v t="$((from + seconds))" '$1 == 64 { printf "%d–%d s: %s callbacks/s, %s µs CPU per request\n", f, t, $2, $6 }'
done
