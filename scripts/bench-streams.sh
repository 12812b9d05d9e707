#!/usr/bin/env bash
# The media-stream load benchmark (issue 4), in one run on this machine: for each VAD (Silero,
# then WebRTC), `hotline serve` (release) with one voice bot on the fake engine (a reply to every
# utterance, <Start><Stream>, signatures checked), and `hotline bench streams` opening N
# concurrent real-time streams of a looped speech fixture (one turn per cycle), which also plays
# Twilio's REST API to time the turns. Prints, per level: failed/dropped streams, processing
# lag p50/p99 (WebSocket ping round trip behind the audio), turn latency beyond the 700 ms
# trailing-silence window, server and bench CPU; then the largest level held (lag p99 < 50 ms,
# no drop).
#   scripts/bench-streams.sh [SILERO_LEVELS] [WEBRTC_LEVELS] [DURATION]
#   (defaults: 100,250,500,750,1000  500,1000,2000,3000  20s)
#   VADS="silero" scripts/bench-streams.sh 250,500,750   # one VAD only
set -euo pipefail
cd "$(dirname "$0")/.."
silero_levels="${1:-100,250,500,750,1000}"
webrtc_levels="${2:-500,1000,2000,3000}"
duration="${3:-20s}"
cargo build --release --locked --quiet -p hotline
bin=target/release/hotline
work=$(mktemp -d)
source scripts/lib/streams.sh
write_stream_bot "$work/bot.yaml"
# Many sockets: raise the open-file limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
server_pid=
trap '[[ -n $server_pid ]] && kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT
for vad in ${VADS:-silero webrtc}; do
  levels=$silero_levels
  [[ $vad == webrtc ]] && levels=$webrtc_levels
  start_stream_server "$bin" "$vad" "$work/bot.yaml" "$work/records-$vad.db" "$work/serve-$vad.log"
  server_pid=$!
  sleep 2
  echo "== vad=$vad ($(nproc) cores; $(uptime | sed 's/.*load/load/'))"
  run_stream_bench "$bin" "$server_pid" "$levels" "$duration"
  kill $server_pid
  wait $server_pid 2>/dev/null || true
  server_pid=
done
