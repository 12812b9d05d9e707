#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time (default 60 s each), on the stable toolchain.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Targets: twiml_parse, stream_message, signature_header, wav_read (see fuzz/fuzz_targets/).
# `-s none` runs libFuzzer's coverage-guided search without AddressSanitizer, which needs
# nightly; the code under test is safe Rust, so panics are what we look for. Crashes are written
# to fuzz/artifacts/<target>/ and make this script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(twiml_parse stream_message signature_header wav_read)
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  mkdir -p "fuzz/corpus/$t"
  cargo fuzz run -s none "$t" "fuzz/corpus/$t" -- -max_total_time="$seconds" -max_len=65536
done
