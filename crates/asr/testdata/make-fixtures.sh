#!/usr/bin/env bash
# Regenerates the committed test audio of hotline-asr (the files are committed, so tests and the
# evaluation never need these tools). Needs Debian's `flite` and `sox`
# (apt-get install -y flite sox) and, for beckett.wav, the moonshine-cpp==0.1.4 wheel's test
# recording (MIT, Moonshine AI), which scripts/install-models.sh's wheel provides: pass its path as $1.
#
# Every file is telephone audio as Twilio carries it: 8 kHz mono G.711 mu-law in a WAV
# container, band-limited to 300–3400 Hz, peak-normalised to -6 dBFS, with 0.25 s of silence
# either side (as a VAD with pre/post-roll would cut it).
set -euo pipefail
cd "$(dirname "$0")"

say() { # voice text output
  local tmp
  tmp="$(mktemp --suffix=.wav)"
  flite -voice "$1" -t "$2" -o "$tmp"
  sox "$tmp" -r 8000 -c 1 -e mu-law -b 8 "$3" sinc 300-3400 gain -n -6 pad 0.25 0.25
  rm -f "$tmp"
}

# Fixtures for the tests (tests/moonshine.rs).
mkdir -p fixtures
while IFS='|' read -r file voice text; do
  say "$voice" "$text" "fixtures/$file"
done <<'LIST'
yes.wav|slt|Yes.
no.wav|rms|No.
book.wav|awb|I would like to book an appointment.
number.wav|slt|My number is four five six.
tomorrow.wav|slt|Tomorrow at three p m.
LIST
if [[ -n "${1:-}" ]]; then
  sox "$1" -r 8000 -c 1 -e mu-law -b 8 fixtures/beckett.wav sinc 300-3400
fi

# The evaluation set (examples/asr-eval.rs): eval/manifest.tsv is "file<TAB>voice<TAB>text".
mkdir -p eval
tail -n +2 eval/manifest.tsv | while IFS=$'\t' read -r file voice text; do
  say "$voice" "$text" "eval/$file"
done
