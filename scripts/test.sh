#!/usr/bin/env bash
# Runs every test of the workspace. Needs only the Rust toolchain (rust-toolchain.toml) and a C
# compiler; test fixtures (audio, TwiML, flows) are committed, so no audio tools are required.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh && scripts/install-models.sh
cargo test --workspace --locked "$@"
