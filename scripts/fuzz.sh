#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time (default 60 s each), on the stable toolchain.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Targets (see fuzz/fuzz_targets/): twiml_parse, stream_message, signature_header, wav_read,
# webhook_form, flow_file, bot_file, lex_zip, lex_export, spoken_text, server_request. Each
# corpus starts from the repository's own examples (flows, bots, the Lex fixture, TwiML) and the
# seeds in fuzz/seeds/, copied in idempotently.
# `-s none` runs libFuzzer's coverage-guided search without AddressSanitizer, which needs
# nightly; the code under test is safe Rust, so panics are what we look for. Crashes are written
# to fuzz/artifacts/<target>/ and make this script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(twiml_parse stream_message signature_header wav_read webhook_form flow_file bot_file
    lex_zip lex_export spoken_text server_request)
fi

# seed TARGET FILE...: copies the files into the target's corpus unless already there.
seed() {
  local dir="fuzz/corpus/$1"
  shift
  mkdir -p "$dir"
  for f in "$@"; do
    if [[ -f "$f" && ! -f "$dir/seed-$(basename "$f")" ]]; then
      cp "$f" "$dir/seed-$(basename "$f")"
    fi
  done
}
seed twiml_parse examples/twiml/seed-bin/index.xml
seed wav_read examples/flows/prompts/beep.wav
seed flow_file examples/flows/*.yaml
seed bot_file examples/bots/appointments.yaml examples/bots/triage.yaml
seed lex_zip crates/localbot/tests/fixtures/lex/appointment.zip
if [[ ! -f fuzz/corpus/lex_export/seed-appointment ]]; then
  mkdir -p fuzz/corpus/lex_export
  (cd crates/localbot/tests/fixtures/lex/appointment &&
    find . -type f | sort | while read -r f; do printf '=== %s\n' "${f#./}"; cat "$f"; done) \
    >fuzz/corpus/lex_export/seed-appointment
fi
# Small hand-written seeds (a webhook body, callers' sentences, whole calls for the server).
for t in "${targets[@]}"; do
  if [[ -d "fuzz/seeds/$t" ]]; then
    seed "$t" fuzz/seeds/"$t"/*
  fi
done

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
# server_request keeps its call records in /dev/shm for the run: remove them however it ends.
trap 'rm -f /dev/shm/hotline-fuzz-*.db /dev/shm/hotline-fuzz-*.db-wal /dev/shm/hotline-fuzz-*.db-shm' EXIT
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  mkdir -p "fuzz/corpus/$t"
  max_len=65536
  # A Lex export (its seed is the whole fixture bot) is larger than a webhook or a flow.
  [[ "$t" == lex_* ]] && max_len=262144
  cargo fuzz run -s none "$t" "fuzz/corpus/$t" -- -max_total_time="$seconds" -max_len="$max_len"
done
