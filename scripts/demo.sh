#!/usr/bin/env bash
# The main job on embedded defaults: emulated calls through the seed's emergency-triage TwiML Bin,
# with no phone, no cloud account and no external server. A silent caller hears the intro, the
# first error and the final error (the seed's retry behaviour); a speaking caller is diverted.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --quiet --locked -p hotline
bin=target/debug/hotline
echo "== A silent caller ==================================================="
"$bin" call --bin examples/twiml/seed-bin/index.xml --silence 30s
echo
echo "== A caller who answers \"oui\" ========================================"
"$bin" call --bin examples/twiml/seed-bin/index.xml --say "oui, c'est pour le coronavirus"
