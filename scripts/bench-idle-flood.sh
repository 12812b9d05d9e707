#!/usr/bin/env bash
# `hotline serve` under a flood of idle connections, more than it has file descriptors for: the
# server runs under `ulimit -n FD_LIMIT` (default 1024, a common default), a Python holder opens
# IDLE connections (default 1500) without sending a byte, and
# once they are open `hotline bench gather --connections 64` measures the webhooks for 8 s (after
# 2 s of warm-up) while the holder keeps them for 30 s.
# A server that cannot close idle connections runs out of descriptors and stops accepting: the
# bench then measures nothing (it gives up after 60 s). Loopback only.
#   scripts/bench-idle-flood.sh HOTLINE_BIN [IDLE] [FD_LIMIT]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:?the hotline binary}"
idle="${2:-1500}"
fds="${3:-1024}"
source scripts/lib/gather.sh
work=$(mktemp -d)
server_pid=
holder_pid=
trap '[[ -n $holder_pid ]] && kill $holder_pid 2>/dev/null; [[ -n $server_pid ]] && kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT
cat >"$work/hold.py" <<'EOF'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
held = []
# A server that no longer accepts leaves each further connect to time out: stop after 10 s.
deadline = time.time() + 10
for _ in range(n):
    if time.time() > deadline:
        break
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        held.append(s)
    except OSError:
        s.close()
print(f"holder: {len(held)} of {n} idle connections opened", flush=True)
time.sleep(secs)
open_now = 0
for s in held:
    s.setblocking(False)
    try:
        if s.recv(1) != b"":
            open_now += 1
    except BlockingIOError:
        open_now += 1
    except OSError:
        pass
print(f"holder: {open_now} still open after {secs:.0f} s", flush=True)
EOF
(
  ulimit -n "$fds"
  exec "$bin" serve examples/flows/covid-triage-fr.yaml --listen 127.0.0.1:18181 \
    --auth-token "$gather_token" --records "sqlite:$work/records.db" >"$work/serve.log" 2>&1
) &
server_pid=$!
for _ in $(seq 1 60); do
  curl -fsS http://127.0.0.1:18181/healthz >/dev/null 2>&1 && break
  sleep 0.5
done
python3 "$work/hold.py" 18181 "$idle" 30 >"$work/hold.log" &
holder_pid=$!
# The bench's connections come after the holder's.
for _ in $(seq 1 30); do
  grep -q opened "$work/hold.log" && break
  sleep 0.5
done
cat "$work/hold.log"
echo "== $bin under ulimit -n $fds, $idle idle connections held"
timeout 60 "$bin" bench gather --addr 127.0.0.1:18181 --auth-token "$gather_token" \
  --connections 64 --warmup 2s --duration 8s --server-pid "$server_pid" ||
  echo "bench: no measurement within 60 s (exit $?)"
wait "$holder_pid" 2>/dev/null || true
holder_pid=
tail -n +2 "$work/hold.log"
echo "server log: $(grep -c 'Too many open files' "$work/serve.log" || true) lines naming 'Too many open files'"
