#!/usr/bin/env bash
# Two builds of `hotline serve` under the same load, alternating, so that a change is measured
# as a ratio within one run on this noisy machine. The load generator is the NEW binary's
# (`hotline bench streams` or `hotline bench gather`), for both servers, each measured after its
# default warm-up.
#   scripts/bench-ab.sh streams OLD_BIN NEW_BIN [LEVELS] [ROUNDS]   (default 1500,2000 2)
#   scripts/bench-ab.sh gather  OLD_BIN NEW_BIN [CONNS]  [ROUNDS]   (default 64 2)
#   VAD=silero scripts/bench-ab.sh streams …                        (default webrtc)
# Build a binary of another commit with a worktree, e.g.
#   git worktree add /tmp/old COMMIT && (cd /tmp/old && cargo build --release -p hotline)
set -euo pipefail
cd "$(dirname "$0")/.."
load="${1:?streams or gather}"
old="${2:?the old hotline binary}"
new="${3:?the new hotline binary}"
rounds="${5:-2}"
work=$(mktemp -d)
server_pid=
trap '[[ -n $server_pid ]] && kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
source scripts/lib/streams.sh
source scripts/lib/gather.sh
token=$gather_token
write_stream_bot "$work/bot.yaml"
for round in $(seq 1 "$rounds"); do
  for side in old new; do
    bin=$old
    [[ $side == new ]] && bin=$new
    rm -f "$work"/records.db*
    case $load in
      streams)
        start_stream_server "$bin" "${VAD:-webrtc}" "$work/bot.yaml" "$work/records.db" "$work/serve.log"
        server_pid=$!
        sleep 2
        echo "== round $round, $side ($bin; $(uptime | sed 's/.*load/load/'))"
        run_stream_bench "$new" "$server_pid" "${4:-1500,2000}" 10s --keep-going
        ;;
      gather)
        start_gather_server "$bin" "$work/records.db" "$work/serve.log"
        server_pid=$!
        sleep 1
        echo "== round $round, $side ($bin; $(uptime | sed 's/.*load/load/'))"
        "$new" bench gather --addr 127.0.0.1:18181 --auth-token "$token" --duration 10s \
          --connections "${4:-64}" --server-pid "$server_pid"
        ;;
      *)
        echo "unknown load '$load': streams or gather" >&2
        exit 2
        ;;
    esac
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  done
done
